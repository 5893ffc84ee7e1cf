"""POST /tag (the rule tagger, one problem or a batch) and GET /taxonomy."""

from __future__ import annotations

from pathlib import Path

import pytest
from tutorlab.curriculum.tagging import tag_problem

from tests.unit.data_api_support import data_api, migrated_template

PERCENT = "A shirt costs $40. It is on sale for 25% off. What is the sale price?"
FRACTION = "Sam ate 1/4 of a pizza and Lee ate 2/4 of it. What fraction of the pizza is left?"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_template(tmp_path_factory.mktemp("data-db"))


async def test_one_problem_gets_the_rule_taggers_tags(template: Path, tmp_path: Path) -> None:
    async with data_api(template, tmp_path) as (client, _, _):
        response = await client.post("/tag", json={"problem": PERCENT})
        assert response.status_code == 200, response.text
        body = response.json()
        expected = tag_problem(PERCENT)
        assert body["topic_tags"] == expected.topic_tags
        assert "arithmetic.percent" in body["topic_tags"]
        assert body["grade"] == expected.grade and body["grade_source"] == "estimated"
        assert body["tagger_version"] == expected.tagger_version
        assert body["evidence"]["arithmetic.percent"]

        pinned = (await client.post("/tag", json={"problem": PERCENT, "grade": 3})).json()
        assert pinned["grade"] == 3 and pinned["grade_source"] == "pinned"
        assert pinned["topic_tags"] == body["topic_tags"]


async def test_a_batch_keeps_ids_and_order_and_pins_grades(template: Path, tmp_path: Path) -> None:
    async with data_api(template, tmp_path) as (client, _, _):
        items = [
            {"id": "p1", "problem": PERCENT},
            {"id": "p2", "problem": FRACTION, "grade": 4},
            {"problem": "Solve for $x$: $2x + 3 = 11$.", "dataset": "math"},
        ]
        body = (await client.post("/tag", json={"items": items, "grade": 6})).json()
        assert [i["id"] for i in body["items"]] == ["p1", "p2", None]
        assert [i["grade"] for i in body["items"]] == [6, 4, 6]  # an item's own pin wins
        assert "arithmetic.fractions" in body["items"][1]["topic_tags"]
        assert any(t.startswith("algebra") for t in body["items"][2]["topic_tags"])
        assert body["taxonomy_version"] and body["tagger_version"].startswith("rules-")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "body"),
        ({"problem": PERCENT, "items": [{"problem": FRACTION}]}, "body"),
        ({"problem": ""}, "problem"),
        ({"problem": PERCENT, "grade": 13}, "grade"),
        ({"items": []}, "items"),
        ({"items": [{"problem": PERCENT, "grade": 0}]}, "items.0.grade"),
        ({"items": [{"question": PERCENT}]}, "items.0"),
    ],
)
async def test_bad_tag_requests_are_422_naming_the_field(
    template: Path, tmp_path: Path, payload: dict, field: str
) -> None:
    async with data_api(template, tmp_path) as (client, _, _):
        response = await client.post("/tag", json=payload)
        assert response.status_code == 422, response.text
        assert response.json()["error"].startswith(field), response.json()


async def test_taxonomy_lists_topics_with_grade_bands(template: Path, tmp_path: Path) -> None:
    async with data_api(template, tmp_path) as (client, _, _):
        taxonomy = (await client.get("/taxonomy")).json()
        topics = {t["id"]: t for t in taxonomy["topics"]}
        assert topics["arithmetic.percent"]["parent"] == "arithmetic"
        low, high = topics["arithmetic.percent"]["grades"]
        assert 1 <= low <= high <= 12
        assert "Algebra" in taxonomy["math_subjects"]
