"""The job kinds eval-service runs."""

from __future__ import annotations

from tutorlab.jobs.runtime import JobKind

from eval_service.probe import ProbeParams, probe_model

KINDS: dict[str, JobKind] = {
    kind.name: kind
    for kind in (
        JobKind("probe_model", ProbeParams, probe_model, "one timed chat with a registered model"),
    )
}
