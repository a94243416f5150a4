"""Errors raised by services; views and the API turn them into messages and 4xx answers."""

from django.core.exceptions import ValidationError


class ServiceError(ValidationError):
    """A business rule refused the request. `message_dict` names the offending fields."""


class NotAllowed(ServiceError):
    """The actor's role may not do this at all (the API answers 403, the UI shows why)."""


class ConflictError(ServiceError):
    """The object changed meanwhile (another operator acted first); reload and retry."""
