"""A worker's two probes, and what they read. Cheap: this imports settings and a Redis client,
not the worker, since an orchestrator runs a probe every few seconds.

- **alive** (liveness): the worker's loop turned within ``worker_alive_within_s``. The worker
  touches a local file (:attr:`ServiceSettings.worker_alive_path`) at each turn of its poll loop
  (twice a second at least, idle or busy), and every second while it starts; a Redis outage does
  not stop it (the worker waits it out, turning), a wedged process does.
- **ready** (readiness): Redis answers and a worker of this queue wrote arq's health-check key
  within its interval (the key expires a second after it). Not ready during a Redis outage.

``python -m <pkg>.worker_probe --alive`` or ``--check`` runs one (exit 0: yes, 1: no, with one
line saying why); each service has that module, importing only its settings.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from redis.asyncio import Redis
from redis.exceptions import RedisError

from tutorlab.settings import ServiceSettings

log = logging.getLogger("tutorlab.worker")

#: how often a worker writes arq's health-check key (which lives a second longer)
HEALTH_CHECK_INTERVAL_S = 10
#: a probe's own limit on each Redis call: it answers now, it does not wait for Redis
PROBE_REDIS_TIMEOUT_S = 3.0


def health_check_key(queue_name: str) -> str:
    """arq's health-check key of a queue's workers (one for all of them)."""
    return f"{queue_name}:health-check"


class AliveFile:
    """The file a worker touches as its loop turns; at most once every ``every_s``."""

    def __init__(self, path: Path, every_s: float = 1.0) -> None:
        self.path = path
        self.every_s = every_s
        self._touched_at = float("-inf")
        self._failed = False

    def touch(self) -> None:
        now = time.monotonic()
        if now - self._touched_at < self.every_s:
            return
        self._touched_at = now
        try:
            self.path.touch()
        except OSError as exc:
            if not self._failed:  # once: the liveness probe will say the rest
                log.warning("cannot touch the liveness file %s: %s", self.path, exc)
            self._failed = True

    def remove(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()


def check_alive(settings: ServiceSettings) -> tuple[bool, str]:
    """Whether a worker's loop turned here within ``worker_alive_within_s``."""
    path, limit_s = settings.worker_alive_path, settings.worker_alive_within_s
    try:
        age_s = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return False, f"not alive: no worker loop has turned here ({path} does not exist)"
    if age_s > limit_s:
        return (
            False,
            f"not alive: the worker's loop last turned {age_s:.0f} s ago (limit {limit_s:g} s)",
        )
    return True, f"alive: the worker's loop turned {max(age_s, 0.0):.1f} s ago"


async def check_ready(settings: ServiceSettings) -> tuple[bool, str]:
    """Whether Redis answers and a worker of this queue reported to it within its health-check
    interval (+1 s), and what it reported."""
    redis = Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=PROBE_REDIS_TIMEOUT_S,
        socket_timeout=PROBE_REDIS_TIMEOUT_S,
    )
    try:
        report = await redis.get(health_check_key(settings.queue_name))
    except (RedisError, OSError) as exc:
        return False, f"not ready: Redis unreachable ({type(exc).__name__}: {exc})"
    finally:
        await redis.aclose()
    if not report:
        return False, f"not ready: no worker on queue {settings.queue_name} reported recently"
    return True, f"ready: {report.decode(errors='replace')}"


def probe_main(settings: ServiceSettings, argv: Sequence[str] | None = None) -> None:
    """``python -m <pkg>.worker_probe --alive | --check``: exit 0 or 1, saying why."""
    parser = argparse.ArgumentParser(
        description=f"Probe this host's {settings.service_name} worker (exit 0: yes, 1: no)."
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--alive",
        action="store_true",
        help=f"liveness: the worker's loop turned within {settings.worker_alive_within_s:g} s "
        "(needs no Redis)",
    )
    which.add_argument(
        "--check",
        action="store_true",
        help="readiness: Redis answers and a worker of this queue reported to it recently",
    )
    args = parser.parse_args(argv)
    ok, message = check_alive(settings) if args.alive else asyncio.run(check_ready(settings))
    print(message, file=sys.stdout if ok else sys.stderr)
    sys.exit(0 if ok else 1)
