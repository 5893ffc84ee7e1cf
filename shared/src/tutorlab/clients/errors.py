"""The one exception a model client raises for anything that went wrong with the endpoint."""

from __future__ import annotations


class ModelEndpointError(Exception):
    """A call to a model endpoint failed.

    ``cause`` is human readable and never contains the API key; ``retryable`` says whether the
    same request might succeed later (the client has already retried what it could);
    ``attempts`` is how many HTTP attempts were made (0 when none could be made).
    """

    def __init__(
        self,
        endpoint: str,
        cause: str,
        *,
        status_code: int | None = None,
        retryable: bool = False,
        attempts: int = 0,
    ) -> None:
        super().__init__(endpoint, cause)
        self.endpoint = endpoint
        self.cause = cause
        self.status_code = status_code
        self.retryable = retryable
        self.attempts = attempts

    def __str__(self) -> str:
        return f"model endpoint {self.endpoint!r}: {self.cause}"

    def __repr__(self) -> str:
        return (
            f"ModelEndpointError(endpoint={self.endpoint!r}, cause={self.cause!r}, "
            f"status_code={self.status_code!r}, retryable={self.retryable!r}, "
            f"attempts={self.attempts!r})"
        )


class AttemptFailure(Exception):
    """Internal: why one attempt failed; turned into a ModelEndpointError by the retry loop."""

    def __init__(
        self,
        cause: str,
        *,
        retryable: bool,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(cause)
        self.cause = cause
        self.retryable = retryable
        self.status_code = status_code
        self.retry_after = retry_after
