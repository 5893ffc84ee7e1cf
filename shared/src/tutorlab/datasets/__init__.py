"""Benchmark dataset records: one normalized shape for GSM8K and MATH, wherever they came from."""

from tutorlab.datasets.records import (
    DATASET_SPLITS,
    DatasetRecord,
    gsm8k_final_answer,
    gsm8k_record,
    math_record,
)

__all__ = [
    "DATASET_SPLITS",
    "DatasetRecord",
    "gsm8k_final_answer",
    "gsm8k_record",
    "math_record",
]
