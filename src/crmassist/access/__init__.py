"""Who may see what: principals, the role matrix, and the filters that enforce it."""

from crmassist.access.filters import DENY_ALL, AllOf, AnyOf, Condition, Match, Range
from crmassist.access.policy import PayloadKey, retrieval_filter, visible_sources
from crmassist.access.principal import Principal

__all__ = [
    "DENY_ALL",
    "AllOf",
    "AnyOf",
    "Condition",
    "Match",
    "PayloadKey",
    "Principal",
    "Range",
    "retrieval_filter",
    "visible_sources",
]
