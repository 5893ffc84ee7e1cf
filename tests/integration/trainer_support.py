"""Helpers for trainer integration tests: settings, a tutor-api served over real HTTP, small
training files in the seed's form, and a job run by a real arq worker."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
from trainer_service.app import create_app as create_trainer_app
from trainer_service.config import TrainerServiceSettings
from trainer_service.worker import worker_settings
from tutor_api.app import create_app as create_tutor_app
from tutor_api.config import TutorApiSettings

from tests.support import app_client, migrate, run_worker, serve_in_thread, unique

#: seed-form lines: prompt "Student: …\nMode: …", the grade as a string, as the seed wrote them
SEED_LINES = [
    {
        "prompt": f"Student: What is {a} + {b}?\nMode: solve",
        "response": f"We add {a} and {b}. {a} + {b} = {a + b}. The answer is \\boxed{{{a + b}}}.",
        "grade": "2",
        "topic_tags": ["arithmetic.addition"],
    }
    for a, b in [(2, 3), (4, 5), (6, 1), (7, 2), (3, 3), (8, 1), (5, 4), (9, 0)]
] + [
    {
        "prompt": f"Student: I have {n} apples and eat one. How many are left?\nMode: hint",
        "response": "What happens to the number of apples when you eat one of them?",
        "grade": "1",
        "topic_tags": ["arithmetic.subtraction"],
    }
    for n in (3, 5, 7, 9)
]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def trainer_settings(
    database_url: str, redis_url: str, data_dir: Path, tokenizer_dir: Path, **extra: Any
) -> TrainerServiceSettings:
    return TrainerServiceSettings(
        database_url=database_url,
        redis_url=redis_url,
        queue_prefix=unique("q"),
        data_dir=data_dir,
        tokenizer_dir=tokenizer_dir,
        **extra,
    )


@contextmanager
def served_tutor_api(tmp_path: Path, database_url: str) -> Iterator[str]:
    """tutor-api (the registry the trainer registers into) over real HTTP."""
    settings = TutorApiSettings(database_url=database_url, data_dir=tmp_path / "tutor")
    with serve_in_thread(create_tutor_app(settings), "tutor-api") as url:
        yield url


@asynccontextmanager
async def trainer_stack(
    tmp_path: Path, redis_url: str, tokenizer_dir: Path, dataset_mirror: Path, **extra: Any
) -> AsyncIterator[tuple[TrainerServiceSettings, httpx.AsyncClient, str]]:
    """The trainer's API on real Redis and SQLite, ``data/socratic_train.jsonl`` and
    ``data/socratic_eval.jsonl`` (seed form) in its data directory, and tutor-api over real
    HTTP; yields the settings (``extra``: more of them), an API client and tutor-api's URL."""
    tutor_db = f"sqlite+aiosqlite:///{tmp_path / 'tutor.db'}"
    trainer_db = f"sqlite+aiosqlite:///{tmp_path / 'trainer.db'}"
    await migrate("tutor-api", tutor_db)
    await migrate("trainer-service", trainer_db)
    data_dir = tmp_path / "var"
    write_jsonl(data_dir / "data/socratic_train.jsonl", SEED_LINES)
    write_jsonl(data_dir / "data/socratic_eval.jsonl", SEED_LINES[::3])
    with served_tutor_api(tmp_path, tutor_db) as tutor_url:
        settings = trainer_settings(
            trainer_db,
            redis_url,
            data_dir,
            tokenizer_dir,
            tutor_api_url=tutor_url,
            tinker_openai_base_url="http://127.0.0.1:9/v1",
            dataset_mirror=dataset_mirror,
            **extra,
        )
        async with app_client(create_trainer_app(settings)) as client:
            yield settings, client, tutor_url


async def run_trainer_worker(settings: TrainerServiceSettings, **options: Any) -> None:
    await run_worker(worker_settings(settings), **options)


async def post_config(
    client: httpx.AsyncClient, text: str, *, content_type: str = "application/yaml"
) -> httpx.Response:
    return await client.post("/trainings", content=text, headers={"content-type": content_type})
