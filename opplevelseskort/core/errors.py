"""Domain errors carry a stable code (part of the API) and a translated message."""

from __future__ import annotations


class DomainError(Exception):
    """A rule said no. `code` is stable and machine-readable; `message` is for people."""

    code = "domain_error"
    status = 422

    def __init__(self, code: str | None = None, message: str | None = None, **details):
        if code:
            self.code = code
        self.message = message or self.code
        self.details = details
        super().__init__(self.message)


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Conflict(DomainError):
    code = "conflict"
    status = 409


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403


class ImportFailed(DomainError):
    """An all-or-nothing import found problems; nothing was written. `errors` lists them by line."""

    code = "import_failed"

    def __init__(self, errors: list[str], message: str | None = None):
        self.errors = errors
        super().__init__(self.code, message or "; ".join(errors[:20]))
