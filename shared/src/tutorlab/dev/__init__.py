"""Developer tools: the local process stack, ``make demo`` and the Redis check.

Kept apart from the runtime library so that nothing a service or worker imports at run time
depends on them; ``python -m tutorlab.dev.devstack`` / ``.demo`` / ``.redis_check`` run them.
"""
