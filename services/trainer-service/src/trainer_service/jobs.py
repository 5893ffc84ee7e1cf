"""The job kinds trainer-service runs."""

from __future__ import annotations

from tutorlab.jobs.runtime import JobKind

from trainer_service.plan import PlanParams, plan_training

KINDS: dict[str, JobKind] = {
    kind.name: kind
    for kind in (
        JobKind(
            "plan_training", PlanParams, plan_training, "dry run: a training config's step plan"
        ),
    )
}
