"""Build the compact name lexicon shipped with the package from `names-dataset`.

    python -m crmassist.privacy.build_name_lexicon   # needs the dev extra (names-dataset)

names-dataset (Philippe Remy, Apache-2.0 licence file) holds first and last names from
105 countries with per-country popularity ranks; loading it takes ~10 s and ~2 GB per
list, too heavy for a redactor's start-up. This keeps Latin-script names whose best rank in
any country is within `MAX_RANK`, with that rank, so the run-time cut-off can be tuned
without rebuilding: `data/name_lexicon.tsv.gz` (name, `first`/`last`, best rank). Country
and region names (pycountry, a names-dataset dependency) are left out: the dataset holds
"Austria" and "Cyprus" as names, and CRM notes mention them as places.
"""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent / "data" / "name_lexicon.tsv.gz"
MAX_RANK = 3000


def place_words() -> frozenset[str]:
    """Case-folded words of country and subdivision names (ISO 3166 via pycountry)."""
    import pycountry

    names = [c.name for c in pycountry.countries]
    names += [getattr(c, "common_name", "") for c in pycountry.countries]
    names += [s.name for s in pycountry.subdivisions]
    return frozenset(w.casefold() for n in names for w in n.replace("-", " ").split())


def best_ranks(pickle_path: Path, places: frozenset[str]) -> dict[str, int]:
    """Case-folded Latin-script names with their best per-country rank."""
    with gzip.open(pickle_path) as handle:
        names = pickle.load(handle)  # the package's own data file
    ranks: dict[str, int] = {}
    for name, info in names.items():
        rank = min(info.get("rank", {}).values(), default=None)
        if rank is None or rank > MAX_RANK or len(name) < 3 or not _latin(name):
            continue
        folded = name.casefold()
        if folded in places:
            continue
        ranks[folded] = min(rank, ranks.get(folded, rank))
    return ranks


def _latin(name: str) -> bool:
    return name.isalpha() and all(ch < "\u0250" for ch in name)


def main() -> None:
    import names_dataset

    source = Path(names_dataset.__file__).resolve().parent / "v3"
    rows = []
    places = place_words()
    for kind in ("first", "last"):
        ranks = best_ranks(source / f"{kind}_names.pkl.gz", places)
        rows += [f"{name}\t{kind}\t{rank}" for name, rank in sorted(ranks.items())]
    OUTPUT.parent.mkdir(exist_ok=True)
    with gzip.open(OUTPUT, "wt", encoding="utf-8", compresslevel=9) as out:
        out.write("\n".join(rows) + "\n")
    print(f"{len(rows)} names -> {OUTPUT}")


if __name__ == "__main__":
    main()
