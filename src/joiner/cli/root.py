"""The root command: a run (TUI or ``-p``) plus the lazily imported subcommands."""

from __future__ import annotations

import importlib
import sys

import click

from joiner import __version__
from joiner.cli import SUBCOMMANDS
from joiner.cli.errors import EXIT_USAGE, UserError, fail


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in SUBCOMMANDS if self.get_command(ctx, name) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        try:
            module = importlib.import_module(target[0])
        except ModuleNotFoundError as err:
            if err.name == target[0]:
                return None  # not built yet
            raise
        return getattr(module, target[1])


@click.group(cls=LazyGroup, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", message="joiner %(version)s")
@click.option("-p", "--print", "prompt", metavar="PROMPT",
              help="Run headless with PROMPT ('-' reads stdin) and print the result.")
@click.option("--model", metavar="PROVIDER/MODEL",
              help="openai/NAME, anthropic/NAME, local/NAME or replay/SESSION_ID.")
@click.option("--permission-mode", type=click.Choice(["default", "accept-edits", "plan", "auto"]),
              help="What the agent may do without asking.")
@click.option("--output-format", type=click.Choice(["text", "json", "stream-json"]),
              default="text", show_default=True, help="Headless output.")
@click.option("--resume", metavar="ID", help="Go on in session ID (a unique prefix is enough).")
@click.option("--continue", "continue_", is_flag=True,
              help="Go on in this workspace's latest session.")
@click.option("--max-budget-usd", metavar="X", help="Stop once the session's cost reaches X.")
@click.option("--max-turns", type=click.IntRange(min=1), metavar="N",
              help="Stop after N model requests.")
@click.option("--debug", is_flag=True, help="Tracebacks and a debug log.")
@click.pass_context
def cli(ctx: click.Context, **options: object) -> None:
    """Joiner: an AI pair programmer for the terminal.

    With no command, opens the TUI in this directory's workspace; with -p, runs headless.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = options["debug"]
    if ctx.invoked_subcommand is not None:
        from joiner.startup import release_collector

        release_collector()  # a subcommand may run long (batch) or read much (usage)
        return
    from joiner.cli.run import run_command

    run_command(options)


def run_cli() -> None:
    debug = "--debug" in sys.argv
    try:
        code = cli.main(standalone_mode=False, prog_name="joiner")
    except click.exceptions.Abort:
        fail("interrupted", 130)
    except click.ClickException as err:
        fail(f"{err.format_message()} (see 'joiner --help')", EXIT_USAGE)
    except click.exceptions.Exit as err:
        raise SystemExit(err.exit_code) from None
    except UserError as err:
        if debug:
            raise
        fail(str(err), err.code)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except Exception as err:
        if debug:
            raise
        fail(f"unexpected error: {type(err).__name__}: {err} (run with --debug for details)", 1)
    raise SystemExit(code if isinstance(code, int) else 0)
