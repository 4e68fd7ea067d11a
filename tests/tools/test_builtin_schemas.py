"""The built-in tools' schemas are generated from their argument models, and building the
tools for a run loads no Pydantic (it is loaded at the first tool call)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from joiner.tools import _builtin_schemas, builtin_tools, json_schema
from joiner.tools.args import BY_TOOL, render_schemas
from joiner.workspace.guard import Workspace


def test_the_generated_schemas_are_current() -> None:
    assert Path(_builtin_schemas.__file__).read_text() == render_schemas(), (
        "src/joiner/tools/_builtin_schemas.py is stale: run `python -m joiner.tools.args`")


def test_each_tool_tells_the_schema_of_the_model_that_checks_its_arguments(
        tmp_path: Path) -> None:
    tools = builtin_tools(Workspace(tmp_path))
    assert {t.spec.name for t in tools} == set(BY_TOOL)
    for tool in tools:
        model = tool.args_model()  # type: ignore[attr-defined]
        assert model is BY_TOOL[tool.spec.name]
        expected = json_schema(model)
        if tool.spec.name == "run_shell":  # its timeout's description names the limits
            expected["properties"]["timeout"]["description"] = (
                tool.spec.parameters["properties"]["timeout"]["description"])
        assert tool.spec.parameters == expected


def test_building_the_tools_loads_no_pydantic(tmp_path: Path) -> None:
    code = ("import sys; from pathlib import Path; import joiner.runtime;"
            "from joiner.tools import builtin_tools; from joiner.workspace.guard import Workspace;"
            f"builtin_tools(Workspace(Path({str(tmp_path)!r})));"
            "print('pydantic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
