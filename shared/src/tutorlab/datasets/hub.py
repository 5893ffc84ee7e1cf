"""Where the Hugging Face hub is and whether it may be asked: what every process that loads a
hub dataset (the data-service's imports, the eval-service's custom tasks) reads the same way."""

from __future__ import annotations

import os

#: the environment variables that put the hub libraries in offline mode
OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")


def hub_offline() -> bool:
    """True when Hugging Face offline mode is on (env or the libraries' own constants, which
    they read once, at import)."""
    for name in OFFLINE_VARIABLES:
        if os.environ.get(name, "").strip().upper() in {"1", "ON", "YES", "TRUE"}:
            return True
    try:
        import huggingface_hub.constants as hub_constants
    except ImportError:  # a process without the hub libraries asks no hub
        return False
    return bool(hub_constants.HF_HUB_OFFLINE)


def hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
