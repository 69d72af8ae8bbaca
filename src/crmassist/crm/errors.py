"""Errors of the CRM services; interfaces turn them into one clear message."""

from __future__ import annotations

from crmassist.errors import CrmassistError


class AccessDenied(CrmassistError, PermissionError):
    """The principal's role or scope does not reach what was asked for."""


class NotFound(CrmassistError, LookupError):
    """No such record in the principal's scope (whether it exists elsewhere is not said)."""
