"""TutorLab shared library: contracts, model clients, tutoring policy, scoring, settings,
database, jobs and queue helpers, and the CLI."""

__version__ = "0.1.0"
