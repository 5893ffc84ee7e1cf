"""``tutorlab-sim``: run the simulator with uvicorn."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

import uvicorn

from tutorlab_sim.app import create_app
from tutorlab_sim.config import SimConfig


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="tutorlab-sim",
        description="TutorLab model simulator (Ollama + OpenAI chat). "
        "Every other setting comes from TUTORLAB_SIM_* environment variables.",
    )
    parser.add_argument("--host", help="bind address (default: TUTORLAB_SIM_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: TUTORLAB_SIM_PORT or 8090)")
    args = parser.parse_args(argv)
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    config = SimConfig(**overrides)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    uvicorn.run(
        create_app(config),
        host=config.host,
        port=config.port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
