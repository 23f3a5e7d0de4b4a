"""Domain exceptions. Services raise them; error_handlers maps them to HTTP."""

from dataclasses import dataclass, field
from typing import Any


class DomainError(Exception):
    status = 400
    code = "bad_request"
    retry_after_seconds: int | None = None  # sent as Retry-After when set

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.fields = fields or {}


class BadRequest(DomainError):
    status = 400
    code = "bad_request"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Invalid(DomainError):
    status = 422
    code = "invalid"


class TooLarge(DomainError):
    status = 413
    code = "too_large"


class Unavailable(DomainError):
    """Something the request needs (a disk, a service) fails for now; retry later."""

    status = 503
    code = "service_unavailable"
    retry_after_seconds = 60


class TooManyRequests(DomainError):
    status = 429
    code = "too_many_requests"


@dataclass
class DeniedAction:
    """What to write to the audit log after a refused state change is rolled back."""

    action: str
    object_type: str
    object_id: int
    actor_id: int | None
    details: dict[str, Any] = field(default_factory=dict)


class TransitionNotAllowed(Conflict):
    code = "transition_not_allowed"

    def __init__(self, message: str, denied: DeniedAction) -> None:
        super().__init__(message)
        self.denied = denied
