"""The ``tutorlab`` command line."""
