"""How well the rule tagger agrees with MATH's own subject labels: the report a ``tag_dataset``
job adds to its summary and docs/taxonomy.md quotes.

It lives with the data-service, its only user; the tagger itself is
:mod:`tutorlab.curriculum.tagging`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from pydantic import BaseModel
from tutorlab.curriculum.tagging import RuleTagger, default_tagger
from tutorlab.datasets.records import DatasetRecord


class AgreementRow(BaseModel):
    n: int
    any_match: int
    top_match: int
    untagged: int

    @property
    def any_rate(self) -> float:
        return self.any_match / self.n if self.n else 0.0

    @property
    def top_rate(self) -> float:
        return self.top_match / self.n if self.n else 0.0


class SubjectAgreementReport(BaseModel):
    tagger_version: str
    use_solution: bool
    overall: AgreementRow
    by_subject: dict[str, AgreementRow]

    def to_markdown(self) -> str:
        """A Markdown table: subject, n, any-tag agreement %, top-tag agreement %, untagged."""
        lines = [
            "| Subject | Problems | Any tag in subject | Top tag in subject | No tag |",
            "|---|---:|---:|---:|---:|",
        ]
        rows = [*sorted(self.by_subject.items()), ("Overall", self.overall)]
        for name, row in rows:
            lines.append(
                f"| {name} | {row.n} | {100 * row.any_rate:.1f}% | {100 * row.top_rate:.1f}% "
                f"| {row.untagged} |"
            )
        return "\n".join(lines)


def subject_agreement(
    records: Iterable[DatasetRecord],
    *,
    use_solution: bool = True,
    tagger: RuleTagger | None = None,
) -> SubjectAgreementReport:
    """How often the rule tags (computed WITHOUT the subject metadata) fall under the topics
    that MATH's own subject label maps to: any tag, and the top (most relevant) tag."""
    tagger = tagger or default_tagger()
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for record in records:
        subject = record.metadata.get("subject")
        if not isinstance(subject, str):
            raise ValueError(f"record {record.id}: metadata.subject is required")
        mapping = tagger.taxonomy.subject_mapping(subject)
        if mapping is None:
            raise ValueError(f"record {record.id}: unknown MATH subject {subject!r}")
        result = tagger.tag(
            record.question, record.solution if use_solution else None, dataset=record.dataset
        )
        tags = result.topic_tags
        row = counts[mapping.subject]
        row[0] += 1
        row[1] += any(tagger.taxonomy.covers(t, tag) for tag in tags for t in mapping.topics)
        row[2] += bool(tags) and any(tagger.taxonomy.covers(t, tags[0]) for t in mapping.topics)
        row[3] += not tags
    by_subject = {
        s: AgreementRow(n=c[0], any_match=c[1], top_match=c[2], untagged=c[3])
        for s, c in sorted(counts.items())
    }
    overall = AgreementRow(
        n=sum(r.n for r in by_subject.values()),
        any_match=sum(r.any_match for r in by_subject.values()),
        top_match=sum(r.top_match for r in by_subject.values()),
        untagged=sum(r.untagged for r in by_subject.values()),
    )
    return SubjectAgreementReport(
        tagger_version=tagger.version,
        use_solution=use_solution,
        overall=overall,
        by_subject=by_subject,
    )
