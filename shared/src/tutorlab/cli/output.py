"""What commands print: the API's JSON for scripts (``--json``), tables that keep ids whole in
any terminal, and what Ctrl-C during a watch says."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tutorlab.cli.http import console, err_console


def emit_json(data: Any) -> None:
    """``data`` as JSON on stdout, plain (no colour, no wrapping), one document."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def emit(data: Any, as_json: bool, view: Callable[[Any], None] | None = None) -> None:
    """With ``--json`` the API's JSON; else ``view`` (a table, a summary) or the JSON
    coloured for people."""
    if as_json:
        emit_json(data)
    elif view is not None:
        view(data)
    else:
        console.print_json(data=data)


def human(as_json: bool) -> Console:
    """Where messages for people go: stdout, or stderr while stdout carries JSON."""
    return err_console if as_json else console


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    ids: Collection[str] = ("id",),
    title: str | None = None,
    show_header: bool = True,
) -> Table:
    """A table whose id columns are never cut or wrapped: they keep their full width and the
    other columns fold to make room (a narrow terminal gets tall rows, never a clipped id)."""
    rows = [list(row) for row in rows]
    grid = Table(title=title, show_header=show_header)
    for index, header in enumerate(headers):
        if header in ids:
            longest = max((Text.from_markup(row[index]).cell_len for row in rows), default=0)
            grid.add_column(header, no_wrap=True, min_width=max(longest, len(header)))
        else:
            grid.add_column(header, overflow="fold")
    for row in rows:
        grid.add_row(*row)
    return grid


@contextmanager
def watching(what: str, *, cancel: str, follow: str) -> Iterator[None]:
    """Ctrl-C while following ``what`` stops the following only: say that it goes on, and the
    commands that cancel it and follow it again; exit 130 (as an interrupted command does)."""
    try:
        yield
    except KeyboardInterrupt:
        err_console.print(
            f"\nstopped watching; {what} goes on.\n"
            f"  cancel it:        {cancel}\n"
            f"  follow it again:  {follow}",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(130) from None


def announce(record: dict[str, Any], as_json: bool, *, follow: str, cancel: str) -> None:
    """A job was submitted and is not followed: its id, the commands that follow and cancel
    it, and (``--json``) the API's record on stdout."""
    out = human(as_json)
    out.print(f"submitted [bold]{record['id']}[/bold]")
    out.print(f"[dim]follow it: {follow} · cancel it: {cancel}[/dim]", highlight=False)
    if as_json:
        emit_json(record)
