"""Checksums and plausibility checks that turn a regex candidate into a PII hit.

A pattern alone over-matches numbers (order ids, amounts); these checks are what keep
precision up: Luhn for cards, ISO 7064 MOD 11-2 plus a real birth date for Chinese IDs,
mod-97 plus the country's length for IBANs, `ipaddress` for IPs, the public suffix list
(bundled snapshot, never fetched) for e-mail domains, `phonenumbers` for phones.
"""

from __future__ import annotations

import functools
import ipaddress
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tldextract

_CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CN_ID_CHECK = "10X98765432"
# fmt: off
_CN_PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82", "83",
})
# fmt: on
# IIN prefixes of card schemes in use: Visa, Mastercard (51-55, 2221-2720), Amex,
# JCB, Diners, Discover, UnionPay, Maestro. Keeps 13-19 digit order ids starting
# with 1, 7, 8, 9 or 20xx out even when they happen to pass Luhn (1 in 10 does).
_CARD_PREFIXES = (
    *("4", "5", "6"),
    *("22", "23", "24", "25", "26", "27"),
    *("30", "34", "35", "36", "37", "38", "39"),
)
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip
# Internal mail domains have no public suffix but still carry a person's address.
_PRIVATE_TLDS = frozenset(
    {"local", "internal", "corp", "lan", "intranet", "home", "example", "test", "invalid"}
)
"""Private-network TLDs and the RFC 2606 reserved ones that test data and demos use."""


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum every payment card number carries."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_ok(digits: str) -> bool:
    """13-19 digits, a known scheme prefix and a valid Luhn check digit."""
    return 13 <= len(digits) <= 19 and digits.startswith(_CARD_PREFIXES) and luhn_ok(digits)


def card_prefix_ok(digits: str) -> bool:
    return digits.startswith(_CARD_PREFIXES)


def cn_id_ok(value: str, today: date | None = None) -> bool:
    """18-char resident ID: province code, a real past birth date, MOD 11-2 check char."""
    if len(value) != 18 or not value[:17].isdigit() or value[:2] not in _CN_PROVINCES:
        return False
    if not _birth_date_ok(value[6:14], today or date.today()):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _CN_ID_WEIGHTS, strict=True))
    return _CN_ID_CHECK[total % 11] == value[17].upper()


def _birth_date_ok(yyyymmdd: str, today: date) -> bool:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= today


def iban_ok(compact: str) -> bool:
    """Country-specific length and ISO 13616 mod-97 == 1."""
    if len(compact) != IBAN_LENGTHS.get(compact[:2], -1) or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def ip_ok(text: str) -> bool:
    """A real IPv4/IPv6 address (no leading zeros, octets <= 255), not the `::` wildcard."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return not address.is_unspecified


def email_domain_ok(domain: str) -> bool:
    """The domain ends in a public suffix (or a common private TLD), so `icon@2x.png` is out."""
    if domain.rsplit(".", 1)[-1].lower() in _PRIVATE_TLDS:
        return True
    parts = _tld_extractor()(domain)
    return bool(parts.suffix and parts.domain)


@functools.cache
def _tld_extractor() -> tldextract.TLDExtract:
    """tldextract on its bundled snapshot: no cache dir, no suffix-list URL, so no network."""
    import tldextract

    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)


def international_phone_ok(text: str) -> bool:
    """`+cc …`: a possible number for that country (validity would reject reserved ranges)."""
    import phonenumbers

    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(text, None))
    except phonenumbers.NumberParseException:
        return False


def national_phone_ok(text: str, regions: tuple[str, ...]) -> bool:
    """A number without a country code: valid in at least one of `regions`."""
    import phonenumbers

    for region in regions:
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(text, region)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False
