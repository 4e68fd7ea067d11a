"""``joiner usage [--json] [--since DATE]``: tokens and cost per model, session and day."""

from __future__ import annotations

import click

SESSIONS_SHOWN = 20  # the text form lists the most recent sessions; --json has them all


@click.command("usage")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.option("--since", metavar="DATE", help="Only requests from DATE (YYYY-MM-DD, local) on.")
def usage(as_json: bool, since: str | None) -> None:
    """Tokens and cost in total, by model, by session and by day."""
    from joiner.cli.errors import EXIT_FAILED, EXIT_USAGE, UserError
    from joiner.cost.report import parse_since, store_query, usage_report
    from joiner.sessions import StoreError, open_store

    try:
        start = None if since is None else parse_since(since)
    except ValueError as err:
        raise UserError(str(err), EXIT_USAGE) from None
    try:
        store = open_store()
    except StoreError as err:
        raise UserError(str(err), EXIT_FAILED) from None
    try:
        report = usage_report(store_query(store), start)
    finally:
        store.close()
    if as_json:
        import json

        click.echo(json.dumps(report, indent=2))
        return
    from joiner.cost.usage_view import print_usage

    print_usage(report, since, SESSIONS_SHOWN)
