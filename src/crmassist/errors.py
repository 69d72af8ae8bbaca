"""Errors a user can act on. Interfaces print their message in one line, no traceback."""


class CrmassistError(Exception):
    """Base for failures caused by input or state the user controls."""


class IndexMissing(CrmassistError):
    def __init__(self) -> None:
        super().__init__("no search index yet: run `crmassist index` (or `crmassist import DIR`)")
