"""TutorLab model simulator: a fake Ollama- and OpenAI-compatible model server.

It answers GSM8K and MATH questions from a dataset mirror at a configured, exact accuracy, plays
a tutor (hint/explain/check/solve), refuses harmful-looking prompts, and injects faults and latency
on request. It never imports ``tutorlab``.
"""

from tutorlab_sim.app import create_app
from tutorlab_sim.config import SimConfig

__all__ = ["SimConfig", "create_app"]
