"""PII redaction: stable pseudonyms for personal data before text is embedded or sent out.

`build_redactor(settings, session_factory, known_names)` gives a `Redactor`;
`TokenVault.restore` puts values back for entity types a caller may see. Importing this
package is cheap: presidio and spaCy load on the first `build_redactor` call.
"""

from crmassist.privacy.entities import (
    TOKEN_PATTERN,
    Detection,
    EntityType,
    Redacted,
    RedactedEntity,
)
from crmassist.privacy.redactor import Redactor, build_redactor
from crmassist.privacy.vault import TokenVault

__all__ = [
    "TOKEN_PATTERN",
    "Detection",
    "EntityType",
    "Redacted",
    "RedactedEntity",
    "Redactor",
    "TokenVault",
    "build_redactor",
]
