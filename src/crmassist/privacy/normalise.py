"""Canonical forms of PII values, so one value written several ways gets one token.

- EMAIL: lower-cased.
- PHONE: digits only, with the country code when one is written (`+`/`00`), E.164 via
  `phonenumbers` so `+44 (0)20 …` drops the trunk zero. A Chinese mobile
  (`1[3-9]` + 9 digits) is unambiguous, so it always gets `86`: `+86 138 1234 5678`,
  `0086 13812345678`, `138-1234-5678` and `13812345678` all become `8613812345678`.
  Other national numbers keep their digits as written (`010-6552 3388` ->
  `01065523388`): without a known country, `010…` and `+86 10…` cannot be equated safely.
- PERSON: NFKC, whitespace collapsed, case-folded, curly apostrophes straightened.
- CN_ID: upper-case check digit. CARD: digits. IBAN: upper-case, no spaces.
- IP: `ipaddress` canonical form (IPv6 compressed).
- SSN, BANK_ACCOUNT: digits. PASSPORT, DRIVER_LICENSE, NINO: upper-case, no separators.
- ADDRESS, URL, DOB: whitespace collapsed, case-folded (URL and DOB keep their form).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import unicodedata

from crmassist.privacy.entities import EntityType

_CN_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_NON_DIGIT = re.compile(r"[^0-9]")
_SPACE = re.compile(r"\s+")
_SEPARATORS = re.compile(r"[\s\-./]+")


def normalise(entity_type: EntityType, value: str) -> str:
    """The canonical form that is hashed into the token."""
    text = unicodedata.normalize("NFKC", value).strip()
    match entity_type:
        case EntityType.EMAIL:
            return text.lower()
        case EntityType.PHONE:
            return _phone(text)
        case EntityType.PERSON:
            return _SPACE.sub(" ", text).replace("’", "'").casefold()
        case EntityType.CN_ID:
            return text.upper()
        case EntityType.CARD | EntityType.SSN | EntityType.BANK_ACCOUNT:
            return _NON_DIGIT.sub("", text)
        case EntityType.PASSPORT | EntityType.DRIVER_LICENSE | EntityType.NINO:
            return _SEPARATORS.sub("", text).upper()
        case EntityType.ADDRESS:
            return _SPACE.sub(" ", text).casefold()
        case EntityType.URL | EntityType.DOB:
            return _SPACE.sub(" ", text)
        case EntityType.IBAN:
            return _SPACE.sub("", text).upper()
        case EntityType.IP:
            return _ip(text)


def display_value(value: str) -> str:
    """What the vault stores for restoring: the text as found, whitespace collapsed."""
    return _SPACE.sub(" ", value.strip())


def digest(entity_type: EntityType, normalised: str) -> str:
    """sha256 over (type, canonical value): the vault key and the token's suffix source."""
    return hashlib.sha256(f"{entity_type.value}\x00{normalised}".encode()).hexdigest()


def _phone(text: str) -> str:
    digits = _NON_DIGIT.sub("", text)
    text = text.removeprefix("(")
    if text.startswith("+"):
        return _e164_digits(text)
    if text.startswith("00"):
        return _e164_digits("+" + text[2:])
    if _CN_MOBILE.fullmatch(digits):
        return "86" + digits
    return digits


def _e164_digits(text: str) -> str:
    """`+44 (0)20 7946 0958` -> `442079460958`; plain digits if it does not parse."""
    import phonenumbers

    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return _NON_DIGIT.sub("", text)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]


def _ip(text: str) -> str:
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        return text.lower()
