"""Options many commands share, spelled and explained once."""

from __future__ import annotations

from typing import Any

import typer

JsonOption = typer.Option(
    False, "--json", help="print the API's JSON (full ids) and nothing else on stdout"
)
WatchOption = typer.Option(
    False, "--watch", help="follow it until it ends (Ctrl-C stops following only)"
)
StatusOption = typer.Option(
    None, help="only this status: queued | running | succeeded | failed | cancelled"
)
OffsetOption = typer.Option(0, min=0, help="skip this many first")
CacheEpochOption = typer.Option(
    None,
    min=0,
    help="cache round: a new N asks the model again instead of reusing round 0's replies, and "
    "caches the new ones under N (default: 0)",
    show_default=False,
)


def limit_option(default: int, most: int) -> Any:
    return typer.Option(default, min=1, max=most, help="at most this many, newest first")


def page(limit: int, offset: int, **filters: Any) -> dict[str, Any]:
    """Query parameters of a list: the page, and the filters that were given."""
    return {"limit": limit, "offset": offset, **{k: v for k, v in filters.items() if v}}
