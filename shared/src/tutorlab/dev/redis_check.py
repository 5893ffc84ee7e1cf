"""``python -m tutorlab.dev.redis_check [--start] URL``: does Redis answer? Start a local one if
asked and ``redis-server`` is installed; otherwise say how to get one."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time

import redis
from redis.exceptions import RedisError


def answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except (RedisError, OSError):
        return False


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--start", action="store_true")
    args = parser.parse_args()
    if answers(args.url):
        return 0
    server = shutil.which("redis-server")
    if not args.start or server is None:
        print(
            f"Redis does not answer at {args.url}. Install it (Debian/Ubuntu: "
            "`apt-get install redis-server`, macOS: `brew install redis`) or point REDIS_URL at "
            "one, e.g. `docker run -p 6379:6379 redis:7`.",
            file=sys.stderr,
        )
        return 1
    port = redis.Redis.from_url(args.url).connection_pool.connection_kwargs.get("port", 6379)
    subprocess.run(
        [server, "--daemonize", "yes", "--port", str(port), "--save", "", "--appendonly", "no"],
        check=True,
    )
    for _ in range(50):
        if answers(args.url):
            print(f"started redis-server on port {port}")
            return 0
        time.sleep(0.1)
    print(f"redis-server started but {args.url} does not answer", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
