"""Street addresses: typed street patterns, address cues, and postal blocks.

Three ways an address shows itself, each a detector:
- its form: a house number beside a street type in one of the languages a CRM meets
  ("72 Acheron Road", "Stuttgarter Platz 23", "Tjernveien 150", "19 rue La Boétie",
  "Via Matteo Schilizzi 21", "P.O. Box 255"), then an optional unit, city, state and
  postcode; the Chinese 省/市/区/县 + 路/街 + 号/座 + postcode form;
- the words before it ("lives at", "my address is", "ship it to", "寄到", "住在"): what
  follows up to the end of the clause is an address when it holds a house number or a
  street type, whatever the street is called (a street type list never holds them all);
- a postal block: a line followed by a unit line ("Apt. 447", "Suite 348"), or a line that
  ends in one, is a street line however it is spelled ("66 9", "Vesturgata Rue Al Imam").
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from crmassist.domain.periods import MONTHS_EN
from crmassist.privacy.detectors import SCORE_ADDRESS, Finder, PatternDetector, Span
from crmassist.privacy.entities import Detection, EntityType

SCORE_ADDRESS_CUED = SCORE_ADDRESS  # a cue plus a house number is as sure as a street type

_UPPER = "A-ZÀ-ÖØ-ÞĀ-ſΆΈ-ΏΑ-ΩА-ЯЁ"
_CAP_WORD = rf"(?:[{_UPPER}][\w'’.\-]*|[0-9]{{1,3}}(?:st|nd|rd|th)\b)"
"""A capitalised word in Latin, Greek or Cyrillic script, or an ordinal ("40th")."""

# English and European street types written after the name ("Wood Lane", "Platz").
_STREET_SUFFIXES = (
    "Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Court|Ct|Boulevard|Blvd|Way|Place|Pl|"
    "Terrace|Close|Crescent|Square|Sq|Parkway|Pkwy|Highway|Hwy|Circle|Cir|Trail|Row|Walk|"
    "Gardens|Grove|Hill|Mews|Park|Alley|Plaza|Loop|Pike|Ridge|Route|Rue|Via|Calle|Strasse|"
    "Straße|Str|Weg|Gasse|Platz|Laan|Straat|Plein|Gracht|Avenida|Rua|Viale|Piazza|"
    "Esplanade|Quay|Wharf|Broadway|Expressway|Freeway|Causeway"
)
# Street words glued to the name in Germanic, Nordic, Baltic and Finnish names
# ("Tjernveien", "Sjötullsgatan", "Præstevænget", "Salontie", "Eichendorffstr.").
_GLUED_STREET = (
    "straße|strasse|str\\.?|weg|gasse|platz|allee|ring|damm|ufer|steig|markt|"
    "laan|straat|plein|gracht|kade|singel|dreef|"
    "veien|vegen|veg|vei|vej|vejen|gade|gata|gatan|gaten|vägen|väg|stræde|vænget|vangen|"
    "svingen|braut|stígur|vegur|tie|katu|kuja|polku|raitti|vahe|maantee|tänav"
)
# Street words written as a word of their own, in lower case ("Olaf Aakranns veg 112",
# "Brīvības iela 5", "Veres Pálné u. 56.", "Csabai kapu 38.", "Atatürk caddesi 12").
_SEPARATE_STREET = (
    "veg|vei|vej|gata|gate|gade|iela|gatvė|utca|út|u\\.|ulica|ulice|cesta|tänav|põik|"
    "sokak|sokağı|caddesi|cad\\.|yolu|straße|strasse|str\\.|weg|laan|straat|"
    "kapu|körút|köz|tér|sor|sétány|rakpart|fasor|náměstí|nábřeží|třída|plac|osiedle|"
    "bulevardul|strada|calle|rua|rue|via"
)
# Street types written before the name ("Rue Shakespeare", "Via Matteo Schilizzi",
# "ul. Wolfe", "Λ. Αλκυονίδων"); after a house number they may be lower case.
_STREET_PREFIXES = (
    "rue|avenue|av\\.|avda\\.?|avenida|via|viale|vicolo|piazza|corso|largo|calle|carrer|"
    "camino|paseo|plaza|rua|travessa|praça|chemin|allée|boulevard|bd\\.?|impasse|place|quai|"
    "route|strada|ulica|ul\\.|u\\.|trg|aleja|al\\.|ulitsa|ул\\.|пр\\.|λ\\.|οδός|leoforos"
)
_LEADING_PREFIXES = "|".join(
    [p[0].upper() + p[1:] for p in _STREET_PREFIXES.split("|")] + ["ul\\.", "u\\.", "al\\."]
)
"""Before the name, a street type is capitalised ("Rue", "Via", "Λ."), save "ul." and "u."."""
_PARTICLE = r"(?:de|des|du|la|le|les|di|da|del|della|dos|das|do|van|von|der|den|al|el|y|e|i)"
_NAME_WORD = rf"(?:{_CAP_WORD}|{_PARTICLE}(?=[ \t]))"
_INNER_WORD = rf"(?:{_NAME_WORD}|{_SEPARATE_STREET}|[0-9]{{1,4}}/?[0-9A-Za-z]*)"
"""Inside a street name: capitalised words, particles, street words, a number ("3/5")."""
_HOUSE = r"[0-9]{1,6}[A-Za-z]?"
_UNIT = r"(?:,?\s*(?i:apt|apartment|suite|ste|unit|flat|floor|fl|#)\.?\s*[0-9A-Za-z\-]+)?"
_PLACE_TAIL = (
    rf"(?:,?[ \t]+(?:[{_UPPER}][\w'’.\-]*[ \t]?){{1,4}}(?=,|\s[0-9A-Z]|$|\.))?"  # city
    r"(?:,?[ \t]+[A-Z]{2,3}\b)?"  # state
    r"(?:,?[ \t]+(?:[0-9]{4,5}(?:-[0-9]{3,4})?(?:[ \t][A-Z]{2}\b)?|[0-9]{3}[ \t][0-9]{2}"
    r"|[0-9]{2}-[0-9]{3}|[A-Z]{1,2}[0-9][0-9A-Z]?\s?[0-9][A-Z]{2}"
    r"|[A-Z][0-9][A-Z][ \t]?[0-9][A-Z][0-9]))?"  # postcode (US, EU, PL, UK, Canada)
)
_EN_ADDRESS = re.compile(
    r"(?<![0-9A-Za-z])(?:"
    rf"{_HOUSE}(?:[ \t]+{_CAP_WORD}){{1,4}}?[ \t]+(?:{_STREET_SUFFIXES})\b\.?"
    rf"|{_HOUSE},?[ \t]+(?i:{_STREET_PREFIXES})(?:[ \t]+{_NAME_WORD}){{1,6}}"
    rf"|(?:{_CAP_WORD}[ \t]+){{1,3}}(?:{_STREET_SUFFIXES})[ \t]+{_HOUSE}\b"
    rf"|(?:{_CAP_WORD}[ \t]+){{1,3}}(?:{_SEPARATE_STREET})[ \t]+{_HOUSE}\b"
    rf"|(?:{_CAP_WORD}[ \t]+){{0,2}}{_CAP_WORD}(?:{_GLUED_STREET})[ \t]+{_HOUSE}\b"
    rf"|(?:{_LEADING_PREFIXES})(?:[ \t]+{_NAME_WORD}){{1,5}}?[ \t]+{_HOUSE}\b"
    r"|(?i:p\.?\s?o\.?\s?box)[ \t]+[0-9]{1,6}"
    # "Tjernveien 150, PARADIS": street words, a house number, then a comma and a place
    rf"|{_CAP_WORD}(?:[ \t]+{_INNER_WORD}){{0,3}}?[ \t]+{_HOUSE}\.?(?=,[ \t]*[{_UPPER}])"
    rf"){_UNIT}{_PLACE_TAIL}"
)
_NOT_A_STREET = re.compile(
    r"(?i:during|in|since|until|till|before|after|from|by|on|at|of|for|over|under|around|"
    r"about|circa|page|chapter|version|release|model|order|invoice|ticket|case|item|room|"
    r"q[1-4]|fy|year|week|day|top|only|all|total|the|a|an|and|or|to|with|within|between|"
    r"up|per|than|over|last|next|first|every|each|some|any|no|not)\b"
)
"""A sentence word, not a street, before a number: "During 2007, UBS invested …"."""


_CODE_AND_NUMBER = re.compile(r"(?<![A-Za-z])([A-Z]{3})[ \t]+[0-9]")


@functools.cache
def _currency_codes() -> frozenset[str]:
    """ISO 4217 codes, from Faker's currency provider (162 of them)."""
    from faker.providers.currency import Provider

    return frozenset(code for code, _ in Provider.currencies)


def _an_amount(candidate: str) -> bool:
    """A number after its ISO currency code ("CNY 23, USD 5", "PF-10 USD 45, CB-20 USD 68"):
    an amount, not a street and house number; "Sydney NSW 2000" stays an address."""
    codes = _currency_codes()
    return any(m.group(1) in codes for m in _CODE_AND_NUMBER.finditer(candidate))


_A_DATE = re.compile(rf"(?:[1-9]|[12][0-9]|3[01])[ \t]+(?i:{'|'.join(MONTHS_EN)})\b")
"""A day and its month ("13 November Close date slipped"): a date, not "13 Elm Close"."""


def _accept_en_address(text: str, match: re.Match[str]) -> Span | None:
    found = match.group()
    if _NOT_A_STREET.match(found) or _A_DATE.match(found) or _an_amount(found):
        return None
    return match.span()


_HAN = r"[\u4e00-\u9fff]"
_ZH_ADDRESS = re.compile(
    rf"(?:{_HAN}{{2,7}}?(?:省|自治区|特别行政区))?"
    rf"(?:{_HAN}{{1,7}}?(?:市|州|盟))?"
    rf"(?:{_HAN}{{1,7}}?(?:区|县|旗|镇|乡))?"
    rf"{_HAN}{{1,10}}?(?:路|街|大道|道|巷|弄|胡同)"
    r"(?:[0-9]+号)?(?:[0-9A-Za-z]+(?:号楼|座|栋|幢|楼|单元|室|层))*"
    r"(?:\s?[0-9]{6}(?![0-9]))?"
)
_ZH_ADMIN = re.compile(r"省|自治区|特别行政区|市|区|县")
_ZH_PROVINCES = re.compile(
    "北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|"
    "湖南|广东|海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门"
)
_ZH_BEFORE_ADDRESS = re.compile("[把到在住于是为往从寄送的址：:]")


def _accept_zh_address(text: str, match: re.Match[str]) -> Span | None:
    """An admin unit before the road, or a house number after it.

    The regex starts at the first Han character it can; the address really starts at a
    province name, or else after the last verb or particle before the first admin unit.
    """
    start, end = match.span()
    value = match.group()
    admin = _ZH_ADMIN.search(value)
    if admin is None and re.search(r"[0-9]", value) is None:
        return None
    province = _ZH_PROVINCES.search(value)
    if province is not None:
        return start + province.start(), end
    before_admin = value[: admin.start() if admin else len(value)]
    lead = [m.end() for m in _ZH_BEFORE_ADDRESS.finditer(before_admin)]
    return (start + lead[-1] if lead else start), end


# --- what the words before it say ----------------------------------------------------

_EN_CUE = re.compile(
    r"(?<![A-Za-z])(?i:"
    r"(?P<strong>(?:address(?:es)?|addr\.?)(?:\s+(?:is|was|are|to|of|as|at|on\s+file\s+is))?"
    r"(?:\s*(?:the\s+same|here\s+they\s+are|below|following))?\s*[:：]?"
    r"|(?:lives?|living|lived|resides?|residing|located|situated)\s+at"
    r"|(?:moved|moving|move|relocated?)\s+to"
    r"|(?:send|sent|ship|shipped|deliver|delivered|mail|mailed|post|posted|forward|return|"
    r"courier|dispatch)\b[^.?!\n]{0,24}?\bto"
    r"|(?:taxi|cab|ride|pick\s+(?:me|us|him|her)\s+up)\s+(?:to|at|from)"
    r"|(?:validate|verify|confirm)\s+the\s+following\??)"
    r"|(?P<weak>(?:is|are|was|were|based|staying|stays?)\s+(?:at|on))"
    r")[ \t]*"
)
"""Words an address follows. After a weak cue ("is at") the place must also look like a
street: a street type, or a word English rarely uses ("is at Level 3" is no address)."""
_ZH_CUE = re.compile(
    "(?:住在|住址|地址|寄到|寄往|寄至|送到|送往|送至|退回|退到|位于|搬到|搬去|迁至)[是为：:]?"
)
_EN_CLAUSE_END = re.compile(
    r"[?!;\n]|(?<!\b[SD]t)(?<!\b(?:Mt|Ft|Av|Rd|ul|al))(?<!\bu)[.](?=\s+[A-Z][a-z]|\s*$)"
)
_ZH_CLAUSE_END = re.compile("[，,。！？!?；;\n]|吗|呢|吧|和|等你|出差")
_HOUSE_NUMBER = re.compile(r"(?<![\w:./])[0-9]{1,5}[A-Za-z]?(?![\w:])")
_STREET_WORD = re.compile(
    rf"\b(?:{_STREET_SUFFIXES})\b|(?i:(?<!\w)(?:{_STREET_PREFIXES})(?!\w)"
    rf"|[^\W\d_]{{3}}(?:{_GLUED_STREET})\b|\b(?:{_SEPARATE_STREET})(?!\w))"
)
_NOT_A_PLACE = re.compile(
    r"(?i:[0-9]{1,2}[:.][0-9]{2}|\b(?:q[1-4]|h[12]|fy[0-9]*)\b|[$€£¥%]"
    r"|[0-9]\s*(?:am|pm|h|hrs?|hours?|minutes?|mins?|days?|weeks?|months?|years?|percent|"
    r"usd|eur|gbp|rmb|units?|pcs|items?|x)\b)"
)
_ZH_PLACE = re.compile("省|市|区|县|镇|乡|村|路|街|道|巷|弄|号|栋|座|幢|室|楼|单元|小区|大厦|广场")
_VALUE_START = re.compile(rf"[0-9{_UPPER}]|(?i:{_STREET_PREFIXES})")
_TOKEN = re.compile(r"[^\s,]+")
_ADDRESS_LOWER = re.compile(
    rf"(?:{_PARTICLE}|{_SEPARATE_STREET}|{_STREET_PREFIXES}|apt\.?|suite|unit|flat|floor|"
    r"no\.?|nr\.?|#)",
    re.IGNORECASE,
)
_RARE_ZIPF = 4.0  # below this, a capitalised word is rare in English: a proper name


@dataclass(frozen=True)
class CuedAddressDetector:
    """What follows an address cue, to the end of its clause and of its address-like
    words, when it holds a house number and a capitalised word, or a street type
    ("Alan lives at Tienne 71, Laax")."""

    name: str = "address_cued"
    entity_types: tuple[EntityType, ...] = (EntityType.ADDRESS,)

    def find(self, text: str) -> list[Detection]:
        found = [
            self._english(text, cue.end(), weak=cue.group("weak") is not None)
            for cue in _EN_CUE.finditer(text)
        ]
        if re.search(_HAN, text):
            found += [self._chinese(text, cue.end()) for cue in _ZH_CUE.finditer(text)]
        return [
            Detection(EntityType.ADDRESS, *span, SCORE_ADDRESS_CUED, self.name)
            for span in found
            if span is not None
        ]

    @staticmethod
    def _english(text: str, start: int, *, weak: bool) -> Span | None:
        if not _VALUE_START.match(text, start):
            return None
        limit = min(len(text), start + 120)
        clause = _EN_CLAUSE_END.search(text, start, limit)
        end = _address_words_end(text, start, clause.start() if clause else limit)
        value = text[start:end]
        if not 3 <= len(value) <= 110 or _NOT_A_PLACE.search(text, start, end + 12):
            return None
        street = _STREET_WORD.search(value) is not None
        numbered = bool(_HOUSE_NUMBER.search(value) and re.search(f"[{_UPPER}]", value))
        if weak and not street:
            numbered = numbered and _has_rare_word(value)
        return (start, end) if numbered or street else None

    @staticmethod
    def _chinese(text: str, start: int) -> Span | None:
        limit = min(len(text), start + 60)
        clause = _ZH_CLAUSE_END.search(text, start, limit)
        end = _trim_end(text, start, clause.start() if clause else limit)
        value = text[start:end]
        if len(value) < 4 or not re.match(_HAN, value):
            return None
        # a place word and a house number, or two place words ("朝阳区望京路"): "新办公楼"
        # is only a building, "退回的饮水机（RMA-36762）" a returned product
        places = len(_ZH_PLACE.findall(value))
        if places >= 2 or (places and re.search("[0-9]", value)):
            return start, end
        return None


def _address_words_end(text: str, start: int, end: int) -> int:
    """Where the address-like words stop: at the first lower-case word that is no
    particle, street or unit word ("Długa 5, Gdańsk last year" ends before "last")."""
    stop = end
    for token in _TOKEN.finditer(text, start, end):
        word = token.group()
        if word[0].islower() and not (
            _ADDRESS_LOWER.fullmatch(word) or _ADDRESS_LOWER.fullmatch(word.rstrip("."))
        ):
            stop = token.start()
            break
    return _trim_end(text, start, stop)


def _has_rare_word(value: str) -> bool:
    from crmassist.privacy.name_model import zipf_en

    words = re.findall(rf"[{_UPPER}][^\W\d_]+", value)
    return any(zipf_en(w) < _RARE_ZIPF for w in words)


def _trim_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in " \t,.;:，。":
        end -= 1
    return end


# --- postal blocks ---------------------------------------------------------------------

_UNIT_WORD = r"(?:Apt|Apartment|Suite|Ste|Unit|Flat|Room|Rm|Bldg|Building|Floor|Fl)\.?"
_UNIT_LINE = re.compile(
    rf"[ \t>]*{_UNIT_WORD}[ \t]*#?[ \t]*[0-9][0-9A-Za-z\-]{{0,5}}[ \t]*(?=\n|$)"
)
_UNIT_TAIL = re.compile(
    rf"(?P<street>[^\n:@]{{2,80}}?)[ \t,]+{_UNIT_WORD}[ \t]*#?[ \t]*[0-9][0-9A-Za-z\-]{{0,5}}"
    r"[ \t]*(?=\n|$)"
)
_LINE = re.compile(r"[^\n]+")


@dataclass(frozen=True)
class PostalBlockDetector:
    """A street line in a postal block: the line before a unit line, or a line ending in
    a unit, however its street is spelled ("66 9\\n Apt. 447\\n WIENERING")."""

    name: str = "address_block"
    entity_types: tuple[EntityType, ...] = (EntityType.ADDRESS,)

    def find(self, text: str) -> list[Detection]:
        if "\n" not in text or _UNIT_WORD_ANY.search(text) is None:
            return []
        found: list[Detection] = []
        lines = list(_LINE.finditer(text))
        for i, line in enumerate(lines):
            span = self._street(text, lines, i, line)
            if span is not None:
                found.append(Detection(EntityType.ADDRESS, *span, SCORE_ADDRESS, self.name))
        return found

    @staticmethod
    def _street(text: str, lines: list[re.Match[str]], i: int, line: re.Match[str]) -> Span | None:
        if _UNIT_LINE.fullmatch(line.group()):
            previous = lines[i - 1] if i else None
            if previous is None or previous.end() + 1 != line.start():
                return None  # a blank line between: the unit line stands alone
            if not _street_like(previous.group()):
                return None
            start = previous.start() + len(previous.group()) - len(previous.group().lstrip(" \t>"))
            return start, line.end() - (len(line.group()) - len(line.group().rstrip()))
        tail = _UNIT_TAIL.fullmatch(line.group())
        if tail is None or not _street_like(tail.group("street")):
            return None
        lead = len(tail.group("street")) - len(tail.group("street").lstrip(" \t>"))
        return line.start() + lead, line.end() - (len(line.group()) - len(line.group().rstrip()))


_UNIT_WORD_ANY = re.compile(rf"\b{_UNIT_WORD}[ \t]*#?[ \t]*[0-9]")


def _street_like(line: str) -> bool:
    """A short line with a digit or a capitalised word, and no label, mail or phone."""
    words = line.split()
    if not 1 <= len(words) <= 8 or ":" in line or "@" in line:
        return False
    if len(re.sub(r"\D", "", line)) > 8 or not re.search(rf"[0-9{_UPPER}]", line):
        return False
    stripped = line.strip(" \t>")
    return _address_words_end(stripped, 0, len(stripped)) == len(stripped.rstrip(" \t,.;:"))


@functools.cache
def address_detectors() -> tuple[Finder, ...]:
    return (
        PatternDetector(
            "address_en", EntityType.ADDRESS, _EN_ADDRESS, SCORE_ADDRESS, _accept_en_address
        ),
        PatternDetector(
            "address_zh", EntityType.ADDRESS, _ZH_ADDRESS, SCORE_ADDRESS, _accept_zh_address
        ),
        CuedAddressDetector(),
        PostalBlockDetector(),
    )
