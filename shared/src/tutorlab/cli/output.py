"""What commands print: the API's JSON for scripts (``--json``), tables that keep ids whole in
any terminal, and what Ctrl-C during a watch says."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console, Group, RenderableType
from rich.measure import Measurement
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
    on: Console | None = None,
) -> RenderableType:
    """Rows as a table when it fits the terminal whole. When it would not (Rich would cut or
    wrap cells, ids too), each row becomes a card instead: its ``ids`` columns on the first
    line, then one ``header  value`` line per other column, values folded. A narrow terminal
    gets longer output, never a clipped id."""
    cells = [list(row) for row in rows]
    grid = Table(*headers, title=title)
    for row in cells:
        grid.add_row(*row)
    target = on or console  # the console it will be printed on
    unbounded = target.options.update_width(1_000_000)
    if Measurement.get(target, unbounded, grid).maximum <= target.width:
        return grid
    return _cards(headers, cells, ids, title)


def _cards(
    headers: Sequence[str], rows: list[list[str]], ids: Collection[str], title: str | None
) -> RenderableType:
    keys = [i for i, header in enumerate(headers) if header in ids]
    parts: list[RenderableType] = [Text(title, style="italic")] if title else []
    for row in rows:
        parts.append(Text.from_markup(" ".join(row[i] for i in keys), style="bold"))
        card = Table.grid(padding=(0, 2))
        card.add_column(no_wrap=True, style="dim")
        card.add_column(overflow="fold")
        for index, header in enumerate(headers):
            if index not in keys:
                card.add_row(f"  {header}", row[index])
        parts.append(card)
    return Group(*parts)


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
