"""The one error tracking raises on its own: at start-up, never during a run."""

from __future__ import annotations


class TrackingUnavailable(RuntimeError):
    """Tracking is configured but cannot work here (its SDK is not installed, or refuses the
    configured store): the service stops at start-up with this message."""
