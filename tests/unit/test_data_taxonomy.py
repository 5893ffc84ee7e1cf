"""The packaged taxonomy is valid, and the loader rejects broken ones with every problem named."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from tutorlab.curriculum.taxonomy import (
    DEFAULT_TAXONOMY_PATH,
    MATH_SUBJECTS,
    TaxonomyError,
    load_taxonomy,
    parse_taxonomy,
    subject_slug,
)


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_TAXONOMY_PATH.read_text(encoding="utf-8"))


def test_packaged_taxonomy_loads_with_a_version_and_typed_topics() -> None:
    tax = load_taxonomy()
    assert tax.version == "1.0.0"
    assert len(tax) >= 50
    fractions = tax.get("arithmetic.fractions")
    assert fractions.name == "Fractions"
    assert fractions.parent_id == "arithmetic"
    assert fractions.grades == (3, 6)
    assert "numerator" in fractions.keywords


def test_ids_unique_bands_valid_parents_exist_and_contain_children() -> None:
    tax = load_taxonomy()
    assert len(set(tax.ids)) == len(tax.ids)
    for topic in tax.topics:
        assert 1 <= topic.grade_min <= topic.grade_max <= 12, topic.id
        if topic.parent_id is not None:
            parent = tax.get(topic.parent_id)
            assert parent.grade_min <= topic.grade_min <= topic.grade_max <= parent.grade_max


def test_taxonomy_covers_the_school_and_math_topics_the_tutor_needs() -> None:
    tax = load_taxonomy()
    for topic_id in (
        "number_sense.counting",
        "number_sense.place_value",
        "arithmetic.addition_subtraction",
        "arithmetic.multiplication_division",
        "arithmetic.fractions",
        "arithmetic.decimals",
        "arithmetic.percent",
        "arithmetic.ratios_rates",
        "measurement.money",
        "measurement.time",
        "measurement.units",
        "arithmetic.integers",
        "algebra.expressions",
        "algebra.equations",
        "algebra.inequalities",
        "algebra.functions",
        "geometry.area",
        "geometry.perimeter",
        "geometry.angles",
        "geometry.volume_surface_area",
        "statistics.measures",
        "probability",
        "number_theory.primes",
        "algebra.polynomials",
        "algebra.sequences_series",
        "algebra.exponentials_logarithms",
        "algebra.complex_numbers",
        "precalculus.trigonometry",
        "precalculus.vectors",
        "precalculus.matrices",
        "algebra.conics",
        "combinatorics.permutations_combinations",
        "number_theory.modular_arithmetic",
    ):
        assert topic_id in tax, topic_id


def test_every_math_subject_maps_onto_existing_topics() -> None:
    tax = load_taxonomy()
    assert set(tax.math_subjects) == set(MATH_SUBJECTS)
    for subject in MATH_SUBJECTS:
        mapping = tax.subject_mapping(subject)
        assert mapping is not None
        assert all(t in tax for t in mapping.topics)
        assert mapping.primary in tax
    assert tax.subject_mapping("counting_and_probability") is tax.subject_mapping(
        "Counting & Probability"
    )
    assert subject_slug("Counting & Probability") == "counting_and_probability"
    assert tax.subject_mapping("Calculus") is None
    assert tax.subject_covers("Geometry", ["geometry.circles"])
    assert not tax.subject_covers("Geometry", ["algebra.quadratics"])
    assert sorted(tax.math_level_grades) == [1, 2, 3, 4, 5]
    assert all(9 <= g <= 12 for g in tax.math_level_grades.values())


def test_covers_and_ancestors() -> None:
    tax = load_taxonomy()
    assert tax.covers("algebra", "algebra.quadratics")
    assert tax.covers("algebra.quadratics", "algebra.quadratics")
    assert not tax.covers("algebra.quad", "algebra.quadratics")
    assert tax.ancestors("number_theory.modular_arithmetic") == ["number_theory"]
    assert [t.id for t in tax.children("probability")] == [
        "probability.simple_events",
        "probability.compound_events",
        "probability.expected_value",
    ]
    with pytest.raises(KeyError, match="unknown topic"):
        tax.get("alchemy")


def test_loader_reports_every_problem(raw: dict[str, Any]) -> None:
    broken = copy.deepcopy(raw)
    del broken["version"]
    topics = broken["topics"]
    topics.append(copy.deepcopy(topics[0]))  # duplicate id
    topics.append({"id": "ghost.child", "name": "Orphan", "grades": [3, 4]})
    topics.append({"id": "arithmetic.backwards", "name": "Backwards", "grades": [7, 5]})
    topics.append({"id": "arithmetic.too_high", "name": "Too high", "grades": [3, 13]})
    topics.append({"id": "Bad Id", "name": "x", "grades": [1, 2]})
    topics.append(
        {"id": "arithmetic.kw", "name": "Keywords", "grades": [2, 3], "keywords": ["F(x)"]}
    )
    broken["math_subjects"]["Geometry"]["topics"] = ["geometry.nowhere"]
    with pytest.raises(TaxonomyError) as caught:
        parse_taxonomy(broken)
    problems = "\n".join(caught.value.problems)
    assert "version: required" in problems
    assert "duplicate id" in problems
    assert "parent 'ghost' is not defined" in problems
    assert "min 7 > max 5" in problems
    assert "[3, 13] outside 1..12" in problems
    assert "'Bad Id' is not a dotted lower-case id" in problems
    assert "keyword 'F(x)'" in problems
    assert "unknown topic 'geometry.nowhere'" in problems
    assert len(caught.value.problems) >= 8


def test_child_band_outside_parent_is_rejected(raw: dict[str, Any]) -> None:
    broken = copy.deepcopy(raw)
    broken["topics"].append({"id": "precalculus.early", "name": "Early", "grades": [8, 12]})
    with pytest.raises(TaxonomyError, match=r"not inside parent's \[10, 12\]"):
        parse_taxonomy(broken)


def test_missing_math_subject_is_rejected(raw: dict[str, Any]) -> None:
    broken = copy.deepcopy(raw)
    del broken["math_subjects"]["Precalculus"]
    with pytest.raises(TaxonomyError, match="missing \\['Precalculus'\\]"):
        parse_taxonomy(broken)


def test_load_from_a_path_and_invalid_yaml(tmp_path: Path, raw: dict[str, Any]) -> None:
    custom = copy.deepcopy(raw)
    custom["version"] = "9.9.9"
    path = tmp_path / "tax.yaml"
    path.write_text(yaml.safe_dump(custom), encoding="utf-8")
    assert load_taxonomy(path).version == "9.9.9"
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: [unclosed\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="invalid YAML"):
        load_taxonomy(bad)


def test_docs_list_every_topic_with_its_band() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "taxonomy.md").read_text("utf-8")
    for topic in load_taxonomy().topics:
        row = f"| `{topic.id}` | {topic.name} | {topic.grade_min}–{topic.grade_max} |"
        assert row in docs, f"docs/taxonomy.md: update the row of {topic.id}"
