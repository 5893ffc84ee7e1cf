"""A local stand-in for the Hugging Face hub's dataset file layout, for ``HF_ENDPOINT``.

It answers what ``datasets.load_dataset(<repo>, <config>)`` and the data-service ask of the hub:
the repo's info (``/api/datasets/<repo>[/revision/<rev>]``), its tree (``/api/datasets/<repo>/tree/
<rev>/<path>``, ``paths-info``) and its files (``/datasets/<repo>/resolve/<rev>/<path>``, with the
``X-Repo-Commit`` and ``ETag`` headers the download cache keys on). Each repo is a directory under
``root`` (``root/openai/gsm8k/README.md``, ``.../main/test-00000-of-00001.parquet``); every request
is recorded in ``requests``.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from tutorlab.datasets.hub import OFFLINE_VARIABLES

#: the one revision every stand-in repo is at
REVISION = "0" * 39 + "1"


def _entry(repo_root: Path, path: Path) -> dict[str, Any]:
    rel = path.relative_to(repo_root).as_posix()
    if path.is_dir():
        return {"type": "directory", "path": rel, "oid": "0" * 40}
    data = path.read_bytes()
    return {"type": "file", "path": rel, "size": len(data), "oid": hashlib.sha1(data).hexdigest()}


class _Handler(http.server.BaseHTTPRequestHandler):
    root: Path
    requests: list[str]

    def log_message(self, *_: object) -> None:
        pass

    def _send(self, code: int, body: bytes = b"", headers: Sequence[tuple[str, str]] = ()) -> None:
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, value: object) -> None:
        self._send(200, json.dumps(value).encode(), [("Content-Type", "application/json")])

    def _answer(self) -> None:
        self.requests.append(f"{self.command} {self.path}")
        url = urllib.parse.urlparse(self.path)
        parts = urllib.parse.unquote(url.path).strip("/").split("/")
        if parts[:2] == ["api", "datasets"] and len(parts) >= 4:
            self._api("/".join(parts[2:4]), parts[4:], url.query)
        elif parts[:1] == ["datasets"] and len(parts) > 5 and parts[3] == "resolve":
            self._file("/".join(parts[1:3]), "/".join(parts[5:]))
        else:
            self._send(404)

    def _api(self, repo: str, rest: list[str], query: str) -> None:
        base = self.root / repo
        if not base.is_dir():
            self._send(
                404, b'{"error": "Repository not found"}', [("X-Error-Code", "RepoNotFound")]
            )
            return
        if not rest or rest[0] == "revision":
            files = sorted(p for p in base.rglob("*") if p.is_file())
            siblings = [{"rfilename": p.relative_to(base).as_posix()} for p in files]
            self._json({"id": repo, "sha": REVISION, "private": False, "siblings": siblings})
        elif rest[0] == "tree":
            folder = base.joinpath(*rest[2:])
            recursive = "recursive=true" in query.lower()
            found = folder.rglob("*") if recursive else folder.iterdir()
            self._json([_entry(base, p) for p in sorted(found)])
        elif rest[0] == "paths-info":
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            paths = urllib.parse.parse_qs(body).get("paths", [])
            self._json([_entry(base, base / p) for p in paths if (base / p).exists()])
        else:
            self._send(404)

    def _file(self, repo: str, rel: str) -> None:
        path = self.root / repo / rel
        if not path.is_file():
            self._send(
                404, headers=[("X-Error-Code", "EntryNotFound"), ("X-Repo-Commit", REVISION)]
            )
            return
        data = path.read_bytes()
        etag = f'"{hashlib.sha256(data).hexdigest()}"'
        self._send(200, data, [("X-Repo-Commit", REVISION), ("ETag", etag)])

    do_GET = do_HEAD = do_POST = _answer


@contextmanager
def hub_standin(root: Path) -> Iterator[tuple[str, list[str]]]:
    """Serve the repos under ``root``; yields (endpoint URL, the requests seen so far)."""
    requests: list[str] = []
    handler = type("Handler", (_Handler,), {"root": root, "requests": requests})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()


def write_repo(
    root: Path, repo: str, configs: dict[str | None, dict[str, list[dict[str, Any]]]]
) -> None:
    """A dataset repo as the hub lays one out: per config and split a parquet file, and a README
    whose YAML names them (``None``: the repo's default config, files under ``data/``)."""
    lines = ["---", "configs:"]
    for config, splits in configs.items():
        folder = config or "data"
        lines.append(f"- config_name: {config or 'default'}")
        lines.append("  data_files:")
        for split, rows in splits.items():
            path = root / repo / folder / f"{split}-00000-of-00001.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.Table.from_pylist(rows), path)
            lines += [f"  - split: {split}", f"    path: {folder}/{split}-*"]
    lines += ["---", f"# {repo} (a test stand-in)", ""]
    (root / repo / "README.md").write_text("\n".join(lines))


def hub_online(monkeypatch: Any, endpoint: str, hub_cache: Path) -> None:
    """Point this process's hub libraries at ``endpoint`` with offline mode off and their
    download cache at ``hub_cache``, for a test that loads through them in process (the tests
    run with HF_HUB_OFFLINE=1, and ``huggingface_hub`` and ``datasets`` read the endpoint,
    offline mode and HF_HOME once, at import); ``monkeypatch`` (a ``pytest.MonkeyPatch``)
    undoes it all."""
    import datasets.config as datasets_config
    import huggingface_hub.constants as hub_constants

    for name in OFFLINE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    patched: dict[Any, dict[str, object]] = {
        hub_constants: {
            "ENDPOINT": endpoint,
            "HUGGINGFACE_CO_URL_TEMPLATE": endpoint + "/{repo_id}/resolve/{revision}/{filename}",
            "HF_HUB_OFFLINE": False,
            "HF_HUB_CACHE": str(hub_cache),
        },
        datasets_config: {
            "HF_ENDPOINT": endpoint,
            "HUB_DATASETS_URL": endpoint + "/datasets/{repo_id}/resolve/{revision}/{path}",
            "HF_HUB_OFFLINE": False,
        },
    }
    for module, values in patched.items():
        for name, value in values.items():
            monkeypatch.setattr(module, name, value)
