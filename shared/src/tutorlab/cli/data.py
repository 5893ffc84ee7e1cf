"""``tutorlab data …``: datasets, tagging and training sets (data-service).

``tag`` and ``validate`` run locally and offline (the data-service package's rule tagger and
validator); every other command talks to data-service over REST.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.table import Table

from tutorlab.cli.http import (
    call,
    client,
    console,
    err_console,
    fail,
    request,
    url_flag,
    url_option,
)
from tutorlab.cli.jobs import wait_for
from tutorlab.cli.options import CacheEpochOption, JsonOption, OffsetOption, limit_option, page
from tutorlab.cli.output import announce, emit, emit_json, human, table
from tutorlab.curriculum.tagging import default_tagger
from tutorlab.curriculum.validation import validate_jsonl

app = typer.Typer(no_args_is_help=True)
build_app = typer.Typer(no_args_is_help=True)
app.add_typer(build_app, name="build", help="Build a training set (socratic | teacher).")

SERVICE = "data-service"
UrlOption = url_option(SERVICE)
WaitOption = typer.Option(
    False,
    "--wait",
    help="wait for the job, with a progress bar (Ctrl-C stops waiting only)",
)
NameArgument = typer.Argument(..., help="dataset: gsm8k | math | math500")
SplitArgument = typer.Argument(..., help="split: train | test")
SetIdArgument = typer.Argument(..., help="training set id (ts_…)")
VersionOption = typer.Option(None, help="a version id (default: the current version)")


def _submit(
    path: str,
    body: dict[str, Any],
    wait: bool,
    url: str | None,
    as_json: bool = False,
    flags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Submit a job; with ``wait``, follow it and return its final record. With ``as_json``
    the record (submitted or final) is printed as JSON, and the rest goes to stderr."""
    job: dict[str, Any] = call(SERVICE, url, "POST", path, json=body, flags=flags)
    hint = f"{job['id']}{url_flag(url)}"
    if not wait:
        follow, cancel = f"tutorlab jobs wait {hint}", f"tutorlab jobs cancel {hint}"
        announce(job, as_json, follow=follow, cancel=cancel)
        return job
    human(as_json).print(f"submitted [bold]{job['id']}[/bold]")
    final = wait_for(job["id"], SERVICE, url, bar_console=human(as_json))
    if as_json:
        emit_json(final)
    if final["status"] != "succeeded":
        fail(f"job {job['id']} {final['status']}: {final.get('error') or ''}")
    return final


# --- datasets --------------------------------------------------------------------------------


@app.command("download")
def download(
    name: str = typer.Option(..., help="gsm8k | math | math500 | all"),
    source: str = typer.Option("hub", help="hub (Hugging Face) | mirror (TUTORLAB_DATASET_MIRROR)"),
    split: list[str] = typer.Option([], help="only this split (repeatable; default: all)"),
    wait: bool = WaitOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Import a dataset into data-service (a job)."""
    body: dict[str, Any] = {"name": name, "source": source}
    if split:
        body["splits"] = split
    flags = {"name": "--name", "source": "--source", "splits": "--split"}
    job = _submit("/datasets/download", body, wait, url, as_json, flags)
    if job.get("result") and not as_json:
        grid = Table("dataset", "split", "status", "rows", "sha256")
        for entry in job["result"]["datasets"]:
            grid.add_row(
                entry["name"],
                entry["split"],
                entry["status"],
                str(entry["rows"]),
                entry["sha256"][:12],
            )
        console.print(grid)


@app.command("list")
def list_datasets(url: str | None = UrlOption, as_json: bool = JsonOption) -> None:
    """The current version of every imported dataset split."""
    emit(call(SERVICE, url, "GET", "/datasets"), as_json, _print_datasets)


def _print_datasets(rows: list[dict[str, Any]]) -> None:
    body = [
        (
            row["name"],
            row["split"],
            str(row["rows"]),
            row["source"],
            row["sha256"][:12],
            row["id"],
        )
        for row in rows
    ]
    console.print(
        table(("dataset", "split", "rows", "source", "sha256", "version"), body, ids=("version",))
    )


@app.command("show")
def show(
    name: str = NameArgument,
    split: str = SplitArgument,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """A dataset split's card (counts, checksum, source, versions, taggings) as JSON."""
    emit(call(SERVICE, url, "GET", f"/datasets/{name}/{split}"), as_json)


ITEM_FLAGS = {
    "offset": "--offset",
    "limit": "--limit",
    "tag": "--tag",
    "grade": "--grade",
    "subject": "--subject",
    "level": "--level",
    "q": "--q",
    "version": "--version",
    "tagging": "--tagging",
}


@app.command("items")
def items(
    name: str = NameArgument,
    split: str = SplitArgument,
    offset: int = OffsetOption,
    limit: int = typer.Option(10, min=1, max=500, help="at most this many"),
    tag: str | None = typer.Option(
        None, help="taxonomy topic id; its subtopics match (see: tutorlab data taxonomy)"
    ),
    grade: int | None = typer.Option(None, min=1, max=12, help="only this grade"),
    subject: str | None = typer.Option(None, help="MATH subject, e.g. Algebra"),
    level: int | None = typer.Option(None, min=1, max=5, help="MATH level"),
    q: str | None = typer.Option(None, help="text search in the question"),
    version: str | None = VersionOption,
    tagging: str | None = typer.Option(None, help="a tagging id (default: the newest)"),
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """A page of items with their tags, as JSON."""
    params = {
        k: v
        for k, v in {
            "offset": offset,
            "limit": limit,
            "tag": tag,
            "grade": grade,
            "subject": subject,
            "level": level,
            "q": q,
            "version": version,
            "tagging": tagging,
        }.items()
        if v is not None
    }
    path = f"/datasets/{name}/{split}/items"
    emit(call(SERVICE, url, "GET", path, params=params, flags=ITEM_FLAGS), as_json)


@app.command("item")
def item(
    name: str = NameArgument,
    split: str = SplitArgument,
    item_id: str = typer.Argument(..., help="the item's id (MATH: test/algebra/1.json)"),
    version: str | None = VersionOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """One item with its tags, as JSON."""
    params = {"version": version} if version else {}
    path = f"/datasets/{name}/{split}/items/{item_id}"
    emit(call(SERVICE, url, "GET", path, params=params), as_json)


@app.command("taxonomy")
def taxonomy(url: str | None = UrlOption, as_json: bool = JsonOption) -> None:
    """The topic tree the tagger uses, with each topic's grade band."""
    emit(call(SERVICE, url, "GET", "/taxonomy"), as_json, _print_taxonomy)


def _print_taxonomy(tree: dict[str, Any]) -> None:
    rows = [
        (t["id"], t["name"], "-".join(str(g) for g in t["grades"][:1] + t["grades"][-1:]))
        for t in tree["topics"]
    ]
    console.print(
        table(
            ("topic", "name", "grades"), rows, ids=("topic",), title=f"taxonomy {tree['version']}"
        )
    )


@app.command("tag-dataset")
def tag_dataset(
    name: str = NameArgument,
    split: str = SplitArgument,
    tagger: str = typer.Option("rule", help="rule | llm"),
    model: str | None = typer.Option(None, help="registered model (tagger llm)"),
    grade: int | None = typer.Option(None, min=1, max=12, help="pin every grade"),
    cache_epoch: int | None = CacheEpochOption,
    wait: bool = WaitOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Tag every item of a dataset split in data-service (a job)."""
    body: dict[str, Any] = {"kind": "tag_dataset", "params": {"name": name, "split": split}}
    body["params"].update({"tagger": tagger, "model": model, "grade": grade})
    if cache_epoch is not None:
        body["params"]["cache_epoch"] = cache_epoch
    flags = {
        "params.tagger": "--tagger",
        "params.model": "--model",
        "params.grade": "--grade",
        "params.cache_epoch": "--cache-epoch",
    }
    job = _submit("/jobs", body, wait, url, as_json, flags)
    if job.get("result") and not as_json:
        console.print_json(data=job["result"]["summary"])


# --- local, offline --------------------------------------------------------------------------


def _problem_text(data: dict[str, Any]) -> str | None:
    for key in ("question", "problem"):
        if isinstance(data.get(key), str) and data[key].strip():
            return str(data[key])
    prompt = data.get("prompt")
    if isinstance(prompt, str) and prompt.strip():
        if prompt.startswith("Student: ") and "\nMode: " in prompt:
            return prompt[len("Student: ") :].rsplit("\nMode: ", 1)[0]
        return prompt
    return None


@app.command("tag")
def tag(
    input: Path = typer.Option(
        ..., "--input", exists=True, dir_okay=False, help="JSONL of problems"
    ),
    output: Path = typer.Option(..., "--output", dir_okay=False, help="JSONL with tags added"),
    grade: int | None = typer.Option(None, min=1, max=12, help="pin the grade of every problem"),
) -> None:
    """Tag problems locally (offline): each line gets ``topic_tags`` and ``grade``.

    A line is a JSON object with ``question`` (or ``problem``, or a seed ``prompt``) and optionally
    ``solution`` / ``answer``, ``dataset`` and ``metadata``.
    """
    tagger = default_tagger()
    out_lines: list[str] = []
    problems: list[str] = []
    with input.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"line {number}: invalid JSON ({exc.msg})")
                continue
            if not isinstance(data, dict):
                problems.append(f"line {number}: expected a JSON object")
                continue
            text = _problem_text(data)
            if text is None:
                problems.append(f"line {number}: no 'question', 'problem' or 'prompt' text")
                continue
            solution = data.get("solution") if isinstance(data.get("solution"), str) else None
            metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else None
            dataset = data.get("dataset") if isinstance(data.get("dataset"), str) else None
            result = tagger.tag(text, solution, grade=grade, dataset=dataset, metadata=metadata)
            data.update(topic_tags=result.topic_tags, grade=result.grade)
            out_lines.append(json.dumps(data, ensure_ascii=False))
    if problems:
        for problem in problems:
            err_console.print(problem)
        fail(f"{len(problems)} bad line(s) in {input}; nothing written")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("".join(line + "\n" for line in out_lines), encoding="utf-8")
    console.print(f"tagged {len(out_lines)} problem(s) -> {output} ({tagger.version})")


@app.command("validate")
def validate(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="training JSONL"),
    max_tokens: int = typer.Option(4096, min=16, help="longest example allowed (token estimate)"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Validate a training JSONL locally; every problem with its line number. Exit 1 if any."""
    report = validate_jsonl(file, max_tokens=max_tokens)
    if as_json:
        emit_json(report.model_dump(mode="json"))
    else:
        for problem in report.problems:
            where = f" {problem.field}:" if problem.field else ""
            console.print(
                f"{file}:{problem.line}:{where} {problem.message} [dim]({problem.code})[/dim]",
                highlight=False,
            )
        verdict = (
            "[green]ok[/green]" if report.ok else f"[red]{len(report.problems)} problem(s)[/red]"
        )
        console.print(
            f"{report.n_lines} line(s), {report.n_valid} valid example(s): {verdict}; "
            f"modes {report.counts_by_mode}"
        )
    if not report.ok:
        raise typer.Exit(1)


# --- training sets ---------------------------------------------------------------------------


def _common(
    seed: int, eval_fraction: float, keep_contaminated: bool, allow_missing_references: bool
) -> dict[str, Any]:
    return {
        "seed": seed,
        "eval_fraction": eval_fraction,
        "drop_contaminated": not keep_contaminated,
        "require_references": not allow_missing_references,
    }


SeedOption = typer.Option(0, help="same seed and inputs -> same set")
EvalOption = typer.Option(0.1, help="share of source problems in the eval split")
KeepOption = typer.Option(
    False, "--keep-contaminated", help="report test-set overlaps but keep them"
)
MissingRefsOption = typer.Option(
    False,
    "--allow-missing-references",
    help="build even when GSM8K test / MATH test are not imported",
)
#: build request fields -> the flags that set them (named in its errors)
BUILD_FLAGS = {
    "seed": "--seed",
    "eval_fraction": "--eval-fraction",
    "drop_contaminated": "--keep-contaminated",
    "require_references": "--allow-missing-references",
    "max_problems": "--max-problems",
    "modes": "--mode",
    "teacher": "--teacher",
    "dataset": "--dataset",
    "temperature": "--temperature",
    "max_tokens": "--max-tokens",
    "concurrency": "--concurrency",
    "cache_epoch": "--cache-epoch",
}


def _print_set_result(job: dict[str, Any], as_json: bool) -> None:
    result = job.get("result")
    if result and not as_json:
        console.print(
            f"training set [bold]{result['training_set']}[/bold]: {result['train']} train, "
            f"{result['eval']} eval, {result['contaminated']} contaminated, "
            f"sha256 {result['sha256'][:12]}"
        )


@build_app.command("socratic")
def build_socratic(
    seed: int = SeedOption,
    max_problems: int | None = typer.Option(None, min=1, help="sample of GSM8K train problems"),
    mode: list[str] = typer.Option(
        [], help="hint | explain | check (repeatable; default all)", show_default=False
    ),
    eval_fraction: float = EvalOption,
    keep_contaminated: bool = KeepOption,
    allow_missing_references: bool = MissingRefsOption,
    wait: bool = WaitOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Tutoring examples from GSM8K train (hint, explain, check)."""
    body = _common(seed, eval_fraction, keep_contaminated, allow_missing_references)
    body["max_problems"] = max_problems
    if mode:
        body["modes"] = mode
    _print_set_result(
        _submit("/training-sets/build/socratic", body, wait, url, as_json, BUILD_FLAGS), as_json
    )


@build_app.command("teacher")
def build_teacher(
    teacher: str = typer.Option(..., help="registered model name (tutor-api)"),
    dataset: str = typer.Option("gsm8k", help="gsm8k | math (train split)"),
    max_problems: int = typer.Option(200, min=1, help="how many train problems to ask"),
    mode: list[str] = typer.Option(
        [], help="solve | hint (repeatable; default both)", show_default=False
    ),
    temperature: float | None = typer.Option(
        None, min=0.0, max=2.0, help="the teacher's sampling temperature"
    ),
    max_tokens: int | None = typer.Option(None, min=16, help="longest teacher reply, in tokens"),
    concurrency: int | None = typer.Option(
        None, min=1, max=256, help="requests in flight (default: the teacher endpoint's)"
    ),
    cache_epoch: int | None = CacheEpochOption,
    seed: int = SeedOption,
    eval_fraction: float = EvalOption,
    keep_contaminated: bool = KeepOption,
    allow_missing_references: bool = MissingRefsOption,
    wait: bool = WaitOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Distillation data: a teacher's replies that pass the eval scorers."""
    body = _common(seed, eval_fraction, keep_contaminated, allow_missing_references)
    body.update(teacher=teacher, dataset=dataset, max_problems=max_problems)
    if mode:
        body["modes"] = mode
    if temperature is not None:
        body["temperature"] = temperature
    for key, value in (
        ("max_tokens", max_tokens),
        ("concurrency", concurrency),
        ("cache_epoch", cache_epoch),
    ):
        if value is not None:
            body[key] = value
    _print_set_result(
        _submit("/training-sets/build/teacher", body, wait, url, as_json, BUILD_FLAGS), as_json
    )


def _form_value(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _rejection_printer(file: Path) -> Callable[[httpx.Response], None]:
    """A response hook: a 422 for bad lines prints one ``FILE:LINE: field: message (code)`` a
    line, as ``validate`` does, before the command fails with the summary."""

    def hook(response: httpx.Response) -> None:
        if response.status_code != 422:
            return
        response.read()
        try:
            body = response.json()
        except ValueError:
            return
        problems = body.get("detail") if isinstance(body, dict) else None
        for problem in problems if isinstance(problems, list) else []:
            if isinstance(problem, dict) and "line" in problem:
                where = f" {problem['field']}:" if problem.get("field") != "line" else ""
                err_console.print(
                    f"{file}:{problem['line']}:{where} {problem['msg']} "
                    f"[dim]({problem['code']})[/dim]",
                    highlight=False,
                )

    return hook


@app.command("upload")
def upload(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="training JSONL"),
    name: str | None = typer.Option(None, help="the set's name (default: the file's name)"),
    description: str | None = typer.Option(None, help="what the set is for"),
    eval_fraction: float = typer.Option(
        0.0, min=0.0, max=0.49, help="hold out this share as eval (0: every example is train)"
    ),
    seed: int = SeedOption,
    max_tokens: int = typer.Option(4096, min=16, help="longest example allowed (token estimate)"),
    keep_contaminated: bool = KeepOption,
    allow_missing_references: bool = MissingRefsOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Make a training set of your own JSONL (validated and checked for test-set overlap).

    The same content uploaded again is the same set (its id is printed again)."""
    fields = _common(seed, eval_fraction, keep_contaminated, allow_missing_references)
    fields.update(max_tokens=max_tokens, name=name, description=description)
    form = {key: _form_value(value) for key, value in fields.items() if value is not None}
    with client(SERVICE, url, timeout=300) as http, file.open("rb") as handle:
        http.event_hooks["response"].append(_rejection_printer(file))
        files = {"file": (file.name, handle, "application/x-ndjson")}
        response = request(
            http,
            "POST",
            "/training-sets",
            data=form,
            files=files,
            flags={**BUILD_FLAGS, "max_tokens": "--max-tokens", "name": "--name"},
        )
    body = response.json()
    if as_json:
        emit_json(body)
        return
    card = body["card"]
    verb = "created" if body["created"] else "already there (same content)"
    contamination = card["contamination"]
    console.print(
        f"training set [bold]{body['id']}[/bold] {verb}: {body['train_rows']} train, "
        f"{body['eval_rows']} eval, {contamination['flagged']} contaminated "
        f"({'dropped' if contamination['dropped'] else 'kept'}), sha256 {body['sha256'][:12]}"
    )


@app.command("sets")
def sets(
    builder: str | None = typer.Option(None, help="only this builder: socratic | teacher | upload"),
    limit: int = limit_option(100, 1000),
    offset: int = OffsetOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Training sets (built and uploaded), newest first."""
    rows = call(
        SERVICE,
        url,
        "GET",
        "/training-sets",
        params=page(limit, offset, builder=builder),
        flags={"builder": "--builder"},
    )
    emit(rows, as_json, _print_sets)


def _print_sets(rows: list[dict[str, Any]]) -> None:
    body = [
        (
            row["id"],
            row["builder"],
            row.get("name") or "",
            str(row["train_rows"]),
            str(row["eval_rows"]),
            row["prompt_version"],
            row["sha256"][:12],
            row["created_at"][:19],
        )
        for row in rows
    ]
    headers = ("id", "builder", "name", "train", "eval", "prompt version", "sha256", "created")
    console.print(table(headers, body))


@app.command("set")
def show_set(
    set_id: str = SetIdArgument, url: str | None = UrlOption, as_json: bool = JsonOption
) -> None:
    """A training set's card as JSON (--json: the whole record, card included)."""
    found = call(SERVICE, url, "GET", f"/training-sets/{set_id}")
    emit(found, as_json, lambda data: console.print_json(data=data["card"]))


@app.command("fetch")
def fetch(
    set_id: str = SetIdArgument,
    part: str = typer.Option("train", help="train | eval"),
    format: str = typer.Option("prompt", help="prompt ({prompt, response, …}) | messages"),
    output: Path = typer.Option(
        ..., "--output", "-o", dir_okay=False, help="the JSONL file to write"
    ),
    url: str | None = UrlOption,
) -> None:
    """Download one part of a training set as JSONL."""
    with client(SERVICE, url, timeout=300) as http:
        response = request(
            http,
            "GET",
            f"/training-sets/{set_id}/download",
            params={"part": part, "format": format},
            flags={"part": "--part", "format": "--format"},
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(response.content)
    lines = response.content.count(b"\n")
    console.print(f"wrote {lines} example(s) to {output}")
