"""The embedded model's transcript prompt, its grounding and its request hints (no model)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from joiner.core.messages import Message, ModelRequest, ToolCall, ToolSpec
from joiner.providers._local_grounding import (
    Grounding,
    edit_pair,
    file_names,
    grounding,
    key_words,
)
from joiner.providers._local_hints import request_hints
from joiner.providers._local_prompt import (
    ANSWER,
    EXAMPLES,
    FENCE,
    build_prompt,
    calls_since_user,
    canonical_arguments,
    render_conversation,
    render_result,
    render_tools,
)

READ = ToolSpec("read_file", "Read a text file. Lines come numbered.",
                {"type": "object", "properties": {"path": {"type": "string"}},
                 "required": ["path"]})
GREP = ToolSpec("grep", "Search file contents.",
                {"type": "object", "properties": {"pattern": {"type": "string"},
                                                  "path": {"type": "string"}},
                 "required": ["pattern"]})
MCP = ToolSpec("mcp__time__now", "Tell the time in a zone. Uses the tz database.",
               {"type": "object", "properties": {"zone": {"type": "string"}},
                "required": ["zone"]})


def call(name: str, args: dict[str, object], id_: str = "c1") -> Message:
    return Message("assistant", "", [ToolCall(id_, name, json.dumps(args))])


def result(text: str, id_: str = "c1", is_error: bool = False) -> Message:
    return Message("tool", text, tool_call_id=id_, name="read_file", is_error=is_error)


def test_tools_head_lists_each_tool_with_its_example_in_request_order() -> None:
    head = render_tools([GREP, READ])
    assert head.index("- grep ") < head.index("- read_file ")
    example = EXAMPLES["grep"]
    assert f"User: {example.user}\nAction: grep {json.dumps(example.arguments)}\n" in head
    assert f"{ANSWER} {example.answer}\n" in head
    assert "write_file" not in head  # only the request's tools


def test_a_tool_without_a_written_example_gets_placeholder_arguments() -> None:
    head = render_tools([MCP])
    assert '- mcp__time__now {"zone": "..."}: Tell the time in a zone\n' in head


def test_the_prompt_ends_where_the_model_writes_its_next_line() -> None:
    request = ModelRequest("ignored system prompt", [
        Message.user("What does calc.py define?"),
        call("read_file", {"path": "calc.py"}),
        result("     1\tdef add(a, b):"),
    ], [READ])
    prompt = build_prompt(request, 32768, 512)
    assert "ignored system prompt" not in prompt
    assert prompt.endswith(
        'User: What does calc.py define?\nAction: read_file {"path": "calc.py"}\n'
        f"Result:\n{FENCE}\ndef add(a, b):\n{FENCE}\n")  # read_file's numbers left out


def test_the_fixed_head_is_a_prefix_of_every_prompt_with_the_same_tools() -> None:
    first = build_prompt(ModelRequest("", [Message.user("a")], [READ, GREP]), 32768, 512)
    later = build_prompt(ModelRequest("", [
        Message.user("a"), Message("assistant", "b"), Message.user("c")], [READ, GREP]),
        32768, 512)
    assert later.startswith(first)  # so llama.cpp's prompt cache reuses it


def test_without_tools_there_are_no_tool_examples() -> None:
    prompt = build_prompt(ModelRequest("", [Message.user("hi")], []), 32768, 512)
    assert "Action: " not in prompt and prompt.endswith("User: hi\n")


def test_results_are_fenced_cut_and_marked_as_errors() -> None:
    assert render_result("", False) == f"Result:\n{FENCE}\n(no output)\n{FENCE}"
    assert render_result("nope", True) == f"Result:\n{FENCE}\nError: nope\n{FENCE}"
    long = render_result("x" * 5000, False, limit=100)
    assert "[... 4900 more characters]" in long and len(long) < 200
    assert FENCE not in render_result(f"a {FENCE} b", False).split("\n")[2]


def test_only_cat_n_output_loses_its_line_numbers() -> None:
    numbered = "     1\tx = 1\n     2\t\n    10\t  y\n[... 5 more lines: read on with offset=11]"
    assert render_result(numbered, False).split("\n")[2:6] == [
        "x = 1", "", "  y", "[... 5 more lines: read on with offset=11]"]
    hits = "a.py:3:x = 1\n     2\tnot cat -n as a whole"
    assert hits in render_result(hits, False)


def test_old_exchanges_are_dropped_first_when_the_budget_is_small() -> None:
    messages = [Message.user("first " * 50), Message("assistant", "old answer"),
                Message.user("second question")]
    assert "first" in render_conversation(messages, 10_000)
    short = render_conversation(messages, 40)
    assert "first" not in short and short == "User: second question\n"


def test_calls_since_the_last_user_message_are_canonical() -> None:
    messages = [Message.user("a"), call("grep", {"pattern": "x"}), result("r"),
                Message.user("b"), call("read_file", {"path": "p", "z": 1}), result("r")]
    assert calls_since_user(messages) == [("read_file", '{"path": "p", "z": 1}')]
    assert canonical_arguments('{"b": 1, "a": 2}') == canonical_arguments('{"a":2,"b":1}')
    assert canonical_arguments("not json") == "not json"


def test_grounding_takes_files_words_and_quoted_text_from_the_request() -> None:
    g = grounding([Message.user('In greet.py, change GREETING from "Hello" to "Hi".')])
    assert g.paths == ["greet.py"]
    assert g.words == ["GREETING", "Hello", "Hi"]
    assert g.texts[:2] == ["Hello", "Hi"]
    assert g.for_key("path") == ["greet.py"] and g.for_key("old_string")[0] == "Hello"
    assert g.for_key("content") == []  # long free text is never restricted


def test_grounding_adds_listed_paths_from_tool_results_after_the_request() -> None:
    messages = [Message.user("Where is slugify?"), call("grep", {"pattern": "slugify"}),
                result("utils/text.py:6:def slugify(text):\nREADME.md:3:text"),
                call("list_files", {}, "c2"), result("a.py\nsrc/b.py", "c2")]
    g = grounding(messages)
    assert g.paths == ["utils/text.py", "README.md", "a.py", "src/b.py"]
    assert g.words == ["slugify"]


def test_edit_pairs_come_from_the_usual_phrasings() -> None:
    assert edit_pair('change GREETING from "Hello" to "Hi".') == ("Hello", "Hi")
    assert edit_pair("rename the function subtract to sub.") == ("subtract", "sub")
    assert edit_pair("Replace `a + b` with `b + a` in x.py") == ("a + b", "b + a")
    assert edit_pair("change the port from 8080 into 9090") == ("8080", "9090")
    assert edit_pair("from a to a") is None and edit_pair("What is this?") is None
    g = grounding([Message.user("In x.py change foo to bar")])
    assert (g.for_key("old_string"), g.for_key("new_string")) == (["foo"], ["bar"])


def test_folders_named_in_words_are_paths_but_plain_words_are_not() -> None:
    assert grounding([Message.user("List the files in the utils folder.")]).paths == ["utils"]
    assert grounding([Message.user("What is under docs?")]).paths == ["docs"]
    assert grounding([Message.user("Which files live under docs.")]).paths == ["docs"]
    g = grounding([Message.user("Give me an overview of the files here.")])
    assert g.paths == [] and g.for_key("path", required=False) == []
    assert g.for_key("path") == ["overview"]  # a required path still takes a word


def test_grounding_knows_files_named_without_their_extension() -> None:
    assert grounding([Message.user("Read the README.")]).paths == ["README.md", "README"]


def test_version_numbers_and_sentence_ends_are_not_files() -> None:
    assert file_names("version 0.3.1 of docs/usage.md and src/ it.") == ["docs/usage.md", "src"]
    assert key_words("Where is the function load_data defined?") == ["load_data"]


@given(st.text(max_size=300))
def test_grounding_never_fails_and_bounds_its_candidates(text: str) -> None:
    g = grounding([Message.user(text)])
    assert isinstance(g, Grounding)
    assert all(len(values) <= 40 for values in (g.paths, g.words, g.texts))
    assert all(v and v in text for v in g.words)


def test_hints_follow_the_request_verbs() -> None:
    assert request_hints("Where is the function slugify defined?").tools == {"grep"}
    assert request_hints("List the files in the utils folder.").tools == {"list_files"}
    assert request_hints('Change "a" to "b" in x.py').tools == {"edit_file"}
    assert request_hints("Run the tests.").tools == {"run_shell"}
    assert request_hints("Show me calc.py").tools == {"read_file"}
    assert request_hints("What is in notes.md?").tools == {"read_file"}
    assert request_hints("What does slugify do?").tools == {"grep"}  # nothing to open
    assert request_hints("What is MAX_SIZE?").tools == {"grep"}


def test_a_plain_question_is_not_concrete_and_allows_every_tool() -> None:
    hints = request_hints("What is a linked list?")
    assert not hints.concrete and hints.tools == frozenset()
    assert not request_hints("Explain what recursion is.").concrete  # nothing to open
    assert hints.narrow(["read_file", "grep"]) == ["read_file", "grep"]


def test_narrowing_keeps_other_tools_and_falls_back_to_all() -> None:
    hints = request_hints("Where is main defined?")
    assert hints.narrow(["read_file", "grep", "mcp__x__y"]) == ["grep", "mcp__x__y"]
    assert hints.narrow(["read_file"]) == ["read_file"]  # grep not offered: all of them
