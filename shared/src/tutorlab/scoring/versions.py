"""Version strings of the scoring semantics, recorded with every result they produce.

Bump ``SCORER_VERSION`` whenever extraction, number parsing/comparison, normalization or the
math-verify wrapping changes what a response scores; bump ``RULES_VERSION`` whenever a tutoring or
safety rule (``tutoring.py``, ``refusal.py``) changes a verdict. Results with different versions are
not comparable item by item.
"""

from __future__ import annotations

SCORER_VERSION = "2.0.0"
RULES_VERSION = "2.1.0"
