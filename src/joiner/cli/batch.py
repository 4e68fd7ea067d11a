"""``joiner batch TASKS.jsonl [--concurrency N] [--output RESULTS.jsonl] [--max-budget-usd X]
[--ray [ADDRESS]]``: many headless tasks, each in an isolated copy of its repository."""

from __future__ import annotations

import math
from pathlib import Path

import click

from joiner.cli.errors import EXIT_USAGE, UserError


def _budget(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        budget = float(value)
    except ValueError:
        raise UserError(f"--max-budget-usd {value!r} is not a number of US dollars "
                        "(e.g. 5 or 0.50)", EXIT_USAGE) from None
    if not math.isfinite(budget) or budget <= 0:
        raise UserError(f"--max-budget-usd {value!r} must be a positive number of US dollars",
                        EXIT_USAGE)
    return budget


def _ray_address(value: str | None, tasks: str | None) -> str | None:
    """``--ray`` takes an optional value: catch ``--ray TASKS.jsonl`` eating the tasks file."""
    if not value:
        return None
    if value.endswith(".jsonl") or (tasks is None and Path(value).is_file()):
        raise UserError(f"--ray took {value!r} as the Ray address; put --ray after "
                        "TASKS.jsonl, or write --ray=ADDRESS", EXIT_USAGE)
    return value


@click.command("batch")
@click.argument("tasks", metavar="TASKS.jsonl", required=False)
@click.option("--concurrency", type=click.IntRange(min=1), metavar="N",
              help="Tasks at once (default: the CPU cores here, or the Ray cluster's CPUs).")
@click.option("--output", metavar="RESULTS.jsonl",
              help="Results, one JSON line per task (default: TASKS.results.jsonl beside the "
                   "tasks file). Ids already in it are skipped: re-running resumes.")
@click.option("--max-budget-usd", metavar="X",
              help="Start no new task once the batch has spent X US dollars.")
@click.option("--ray", "ray_address", is_flag=False, flag_value="", default=None,
              metavar="[ADDRESS]",
              help="Run the tasks on Ray: a local Ray, or ADDRESS (ray://HOST:PORT or auto). "
                   "Needs: pip install 'joiner[ray]'.")
def batch(tasks: str | None, concurrency: int | None, output: str | None,
          max_budget_usd: str | None, ray_address: str | None) -> None:
    """Run many headless tasks, each in its own copy of its repository.

    Each line of TASKS.jsonl is {"id", "repo", "prompt"} with optional "model",
    "permission_mode" (default accept-edits), "max_turns" and "max_budget_usd".
    Each result line has the task's "patch" (a git diff); the repositories are never
    changed.
    """
    address = _ray_address(ray_address, tasks)
    if tasks is None:
        raise UserError("give the tasks file: joiner batch TASKS.jsonl (one JSON task per line)",
                        EXIT_USAGE)
    budget = _budget(max_budget_usd)
    from joiner.batch import Batch, BatchError, BatchOptions
    from joiner.batch.ray_pool import RayMissing

    options = BatchOptions(Path(tasks), Path(output) if output else None, concurrency, budget,
                           ray=ray_address is not None, ray_address=address)
    try:
        code = Batch(options).run()
    except BatchError as err:
        raise UserError(str(err), err.code) from None
    except RayMissing as err:
        raise UserError(str(err), EXIT_USAGE) from None
    raise SystemExit(code)
