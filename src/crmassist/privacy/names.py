"""The known-names recognizer: every contact and user name the CRM holds, as one regex.

Presidio's deny_list needs token boundaries, which unsegmented Chinese lacks, so names
become a regex alternation of escaped names. It is factored into a prefix trie: the
same language as "longest first" (a longer continuation is tried before a name may end)
but each text position costs the length of one name instead of one test per name,
which matters with tens of thousands of contacts.

Matching rules: Chinese names match anywhere; Latin-script names need a boundary that is
not a Latin letter or digit (a Han character next to them is fine). Multi-word names
match case-insensitively with any run of whitespace between words; single-word names
must match exactly, so a contact called "Will" does not hit "Will the samples …".
People are named by first name in chat, lower case too ("marcus weighted pipeline"), so
the given names of multi-word names match case-insensitively as well, unless the given
name is an everyday English word ("will", "mark", "grace": see `given_names`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from crmassist.domain.language import zipf

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = r"A-Za-z0-9_\u00c0-\u024f"
_SPACE = re.compile(r"\s+")
_END = ""  # trie key marking "a name may end here"
EVERYDAY_ZIPF = 4.5
"""From this English Zipf frequency a given name is as much a word ("grace", "mark")."""

Trie = dict[str, "Trie"]


def clean_names(names: Iterable[str]) -> list[str]:
    """Distinct names, NFKC, whitespace collapsed; blanks and one-character names dropped."""
    seen: dict[str, None] = {}
    for raw in names:
        if not isinstance(raw, str):
            continue
        name = _SPACE.sub(" ", unicodedata.normalize("NFKC", raw)).strip().replace("’", "'")
        if len(name) > 1 and any(ch.isalpha() for ch in name):
            seen.setdefault(name, None)
    return list(seen)


def given_names(names: Iterable[str]) -> dict[str, str | None]:
    """Case-folded given names of the multi-word Latin names, each with the one full name
    it opens, or None when it opens several ("rachel" of four contacts). Left out: given
    names that are everyday English words as often as names (an English Zipf frequency
    from `EVERYDAY_ZIPF`), which a lower-case text uses as words: "will", "mark", "grace"."""
    full: dict[str, str | None] = {}
    for name in clean_names(names):
        first = name.split(" ", 1)[0].casefold()
        if " " not in name or _HAN.search(name) or len(first) < 3 or not first.isalpha():
            continue
        full[first] = name if first not in full else None
    return {first: name for first, name in full.items() if zipf(first, "en") < EVERYDAY_ZIPF}


def known_names_pattern(
    names: Iterable[str], given: Mapping[str, str | None] | None = None
) -> re.Pattern[str] | None:
    """One compiled regex for all names, or None when there is nothing to look for.
    `given`: `given_names(names)`, when the caller has it already."""
    cleaned = clean_names(names)
    han = [n for n in cleaned if _HAN.search(n)]
    latin = [n for n in cleaned if not _HAN.search(n)]
    multi = [n.lower() for n in latin if " " in n]
    multi += list(given_names(cleaned) if given is None else given)
    single = [n for n in latin if " " not in n]
    latin_alts = ([f"(?i:{_trie_regex(multi)})"] if multi else []) + (
        [_trie_regex(single)] if single else []
    )
    parts = []
    if latin_alts:
        body = "|".join(latin_alts)
        parts.append(rf"(?<![{_LATIN_WORD}])(?:{body})(?![{_LATIN_WORD}])")
    if han:
        parts.append(_trie_regex(han))
    return re.compile("|".join(parts)) if parts else None


def _trie_regex(words: Iterable[str]) -> str:
    root: Trie = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[_END] = {}
    return _emit(root)


def _emit(node: Trie) -> str:
    """Children before the end marker, inside a greedy group: longer names win."""
    alts = [_atom(ch) + _emit(child) for ch, child in sorted(node.items()) if ch != _END]
    if not alts:
        return ""
    body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
    if _END in node:
        return f"(?:{body})?"
    return body


def _atom(ch: str) -> str:
    if ch == " ":
        return r"\s+"
    if ch == "'":
        return "['’]"
    return re.escape(ch)
