"""The job kinds data-service runs."""

from __future__ import annotations

from tutorlab.jobs.runtime import JobKind

from data_service.mirror_count import CountRowsParams, count_rows

KINDS: dict[str, JobKind] = {
    kind.name: kind
    for kind in (
        JobKind("count_rows", CountRowsParams, count_rows, "count a mirror dataset file's rows"),
    )
}
