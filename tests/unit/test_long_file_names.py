"""A path whose file name is longer than the file system holds (255 bytes) is a 422 naming the
field, never a 500 (the OpenAPI fuzz found `OSError: File name too long` on these routes)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.unit.services_support import KEY

AUTH = {"Authorization": f"Bearer {KEY}"}
TOO_LONG = "0" * 300


def assert_names(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"].startswith(f"{field}: "), body
    assert [entry["field"] for entry in body["detail"]] == [field]


@pytest.mark.parametrize("name", [TOO_LONG, f"sets/{TOO_LONG}.jsonl"])
async def test_training_set_paths(
    name: str, service_client: Callable[..., Any], tmp_path: Path
) -> None:
    (tmp_path / "data" / "sets").mkdir(parents=True)  # the service's data directory
    async with service_client("data-service") as (_, client):
        validated = await client.post("/training-sets/validate", json={"path": name}, headers=AUTH)
        created = await client.post(
            "/training-sets", json={"path": name, "name": "mine"}, headers=AUTH
        )
    assert_names(validated, "path")
    assert_names(created, "path")


async def test_comparison_paths(service_client: Callable[..., Any], tmp_path: Path) -> None:
    outputs = tmp_path / "outputs"  # the service's outputs directory
    outputs.mkdir()
    inside = str(outputs / TOO_LONG)
    async with service_client("eval-service") as (_, client):
        response = await client.post(
            "/comparisons", json={"baseline": inside, "candidate": inside}, headers=AUTH
        )
    assert_names(response, "baseline")
    assert "neither a benchmark run id nor a results file" in response.json()["error"]
