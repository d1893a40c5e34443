"""Domain errors: a message a person can act on, and the field it is about."""

from __future__ import annotations


class DomainError(Exception):
    """A rule refused an action. ``message`` is French for customers; ``field`` names the input."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    def as_dict(self) -> dict[str, str | None]:
        return {"message": self.message, "field": self.field, "code": self.code}


class NotFound(DomainError):
    status_code = 404

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field, code="not_found")


class PermissionDenied(DomainError):
    status_code = 403

    def __init__(self, message: str = "Accès refusé.") -> None:
        super().__init__(message, code="forbidden")
