"""The name lexicon kept between processes: read back whole, rebuilt when unreadable."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from crmassist.privacy import lexicon
from crmassist.privacy.lexicon import NAME_RANK_CUTOFF, name_lexicon


def cache_file(cache_dir: Path) -> Path:
    [path] = (cache_dir / "lexicon").glob("names-*.json")
    return path


def test_the_cached_lexicon_is_the_built_one(tmp_path: Path) -> None:
    built = name_lexicon(NAME_RANK_CUTOFF, tmp_path)
    assert cache_file(tmp_path).stat().st_size > 1_000_000
    again = lexicon._read_lexicon(cache_file(tmp_path))
    assert again == built == name_lexicon()  # the uncached build, the same names and ranks
    assert again is not None and again.rank("Maria") == built.rank("Maria")


def test_a_lexicon_from_older_sources_is_removed_when_a_new_one_is_written(
    tmp_path: Path,
) -> None:
    (tmp_path / "lexicon").mkdir()
    stale = tmp_path / "lexicon" / "names-0123456789abcdef.json"
    stale.write_text("{}", encoding="utf-8")
    name_lexicon(NAME_RANK_CUTOFF, tmp_path)
    assert not stale.exists() and cache_file(tmp_path).name != stale.name


def test_an_unreadable_cache_is_rebuilt_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    name = f"names-{lexicon._sources_digest(NAME_RANK_CUTOFF)}.json"
    (tmp_path / "lexicon").mkdir()
    (tmp_path / "lexicon" / name).write_text('{"first": [', encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="crmassist.privacy.lexicon"):
        rebuilt = name_lexicon(NAME_RANK_CUTOFF, tmp_path)
    assert rebuilt.knows("maria") and "unreadable name lexicon cache" in caplog.text
    assert lexicon._read_lexicon(tmp_path / "lexicon" / name) == rebuilt  # rewritten whole


def test_a_cache_that_cannot_be_written_costs_time_not_the_lexicon(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="crmassist.privacy.lexicon"):
        found = name_lexicon(NAME_RANK_CUTOFF, blocked)
    assert found.knows("maria") and "could not cache the name lexicon" in caplog.text


def test_the_cache_dir_does_not_make_a_second_engine(tmp_path: Path) -> None:
    """It only speeds the first build up: a caller passing it gets the process's engine."""
    from crmassist.privacy.engine import shared_engine

    assert shared_engine(False, cache_dir=tmp_path) is shared_engine(False)
