"""``tinker://<run_id>/<kind>/<name>`` checkpoint paths: built and parsed in one place."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from .protocol import BackendError

CheckpointKind = Literal["weights", "sampler_weights"]

_PATH = re.compile(r"^tinker://(?P<run>[^/]+)/(?P<kind>weights|sampler_weights)/(?P<name>[^/]+)$")
#: checkpoint names: what a file name and a URL segment can both carry
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class CheckpointPath:
    run_id: str
    kind: CheckpointKind
    name: str

    def __str__(self) -> str:
        return f"tinker://{self.run_id}/{self.kind}/{self.name}"

    @staticmethod
    def parse(path: str) -> CheckpointPath:
        match = _PATH.match(path)
        if match is None:
            raise BackendError(
                f"{path!r} is not a checkpoint path (tinker://<run>/weights/<name> or"
                " tinker://<run>/sampler_weights/<name>)"
            )
        kind: CheckpointKind = "weights" if match["kind"] == "weights" else "sampler_weights"
        return CheckpointPath(match["run"], kind, match["name"])


def is_checkpoint_path(model: str) -> bool:
    return model.startswith("tinker://")


#: Tinker's bounds on a checkpoint's TTL: an hour to ten years
MIN_TTL_S = 3600
MAX_TTL_S = 10 * 365 * 24 * 3600


def check_ttl(ttl_s: int | None) -> int | None:
    """A checkpoint TTL within Tinker's bounds (None: kept until deleted), or BackendError.

    The simulated backend applies the same bounds, so a config that works there works on Tinker.
    """
    if ttl_s is not None and not MIN_TTL_S <= ttl_s <= MAX_TTL_S:
        raise BackendError(f"ttl_s: {ttl_s} s is outside Tinker's bounds (3600 s to 10 years)")
    return ttl_s


def check_name(name: str) -> str:
    """A checkpoint name, or BackendError saying what is allowed."""
    if not _NAME.match(name):
        raise BackendError(
            f"checkpoint name {name!r}: use 1-128 letters, digits, '.', '_' or '-',"
            " starting with a letter or digit"
        )
    return name
