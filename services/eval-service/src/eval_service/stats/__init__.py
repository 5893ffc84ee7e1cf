"""Statistics for benchmark reporting and paired run comparison (pure functions, no I/O)."""

from eval_service.stats.agreement import Agreement, binary_agreement
from eval_service.stats.compare import (
    Comparison,
    ItemId,
    ItemScores,
    MetricComparison,
    MetricKind,
    MetricSpec,
    Verdict,
    compare_runs,
    not_compared,
)
from eval_service.stats.intervals import (
    MetricSummary,
    breakdown,
    summarize_binary,
    summarize_continuous,
    summarize_counts,
    wilson_interval,
)
from eval_service.stats.multiple_testing import HolmResult, holm
from eval_service.stats.paired import (
    BootstrapResult,
    PairedDifference,
    mcnemar_exact,
    paired_bootstrap,
    paired_proportion_difference,
)

__all__ = [
    "Agreement",
    "BootstrapResult",
    "Comparison",
    "HolmResult",
    "ItemId",
    "ItemScores",
    "MetricComparison",
    "MetricKind",
    "MetricSpec",
    "MetricSummary",
    "PairedDifference",
    "Verdict",
    "binary_agreement",
    "breakdown",
    "compare_runs",
    "holm",
    "mcnemar_exact",
    "not_compared",
    "paired_bootstrap",
    "paired_proportion_difference",
    "summarize_binary",
    "summarize_continuous",
    "summarize_counts",
    "wilson_interval",
]
