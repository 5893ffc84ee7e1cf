"""The job kinds data-service runs."""

from __future__ import annotations

from tutorlab.jobs.runtime import JobKind

from data_service.build_jobs import (
    SocraticBuildParams,
    TeacherBuildParams,
    build_socratic,
    build_teacher,
)
from data_service.dataset_import import DownloadParams, download_dataset
from data_service.tag_jobs import TagDatasetParams, tag_dataset

#: ids of this service's jobs start with it (``dat_…``); the service and its worker both use it
JOB_PREFIX = "dat"

KINDS: dict[str, JobKind] = {
    kind.name: kind
    for kind in (
        JobKind(
            "download_dataset",
            DownloadParams,
            download_dataset,
            "import GSM8K / MATH / MATH-500 from the hub or the mirror as dataset versions",
        ),
        JobKind(
            "tag_dataset",
            TagDatasetParams,
            tag_dataset,
            "topic tags and grades for every item of a dataset version (rule or LLM tagger)",
        ),
        JobKind(
            "build_socratic",
            SocraticBuildParams,
            build_socratic,
            "hint / explain / check tutoring examples from GSM8K train",
        ),
        JobKind(
            "build_teacher",
            TeacherBuildParams,
            build_teacher,
            "distillation data: a teacher model's replies that pass the eval scorers",
        ),
    )
}
#: kinds with a route of their own are submitted there only (``tag_dataset`` goes by POST /jobs)
ROUTES: dict[str, str] = {
    "download_dataset": "POST /datasets/download",
    "build_socratic": "POST /training-sets/build/socratic",
    "build_teacher": "POST /training-sets/build/teacher",
}
