"""TutorLab's own evaluation sets: tutoring behaviour, safety refusals and over-refusal.

The data are versioned JSONL files in this package; ``manifest.json`` holds the version and
a checksum and category counts per file. See ``docs/evalsets.md``.
"""

from eval_service.evalsets.loader import (
    Manifest,
    OverRefusalItem,
    SafetyItem,
    TutoringEntry,
    TutoringItem,
    load_manifest,
    load_over_refusal,
    load_safety,
    load_tutoring,
    load_tutoring_entries,
    numeric_value,
    tutoring_source_ids,
    verify_manifest,
)

#: version of the evaluation sets, from manifest.json; recorded with every benchmark result
EVALSETS_VERSION: str = load_manifest().version

__all__ = [
    "EVALSETS_VERSION",
    "Manifest",
    "OverRefusalItem",
    "SafetyItem",
    "TutoringEntry",
    "TutoringItem",
    "load_manifest",
    "load_over_refusal",
    "load_safety",
    "load_tutoring",
    "load_tutoring_entries",
    "numeric_value",
    "tutoring_source_ids",
    "verify_manifest",
]
