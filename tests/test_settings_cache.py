"""Where derived, rebuildable files live: one cache for every data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmassist.settings import Settings


def test_the_cache_follows_xdg_and_is_shared_by_data_dirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("CRMASSIST_CACHE_DIR", raising=False)
    one, two = Settings(data_dir=tmp_path / "a"), Settings(data_dir=tmp_path / "b")
    assert one.resolved_cache_dir == two.resolved_cache_dir == tmp_path / "xdg" / "crmassist"


def test_an_explicit_cache_dir_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRMASSIST_CACHE_DIR", str(tmp_path / "mine"))
    assert Settings().resolved_cache_dir == tmp_path / "mine"
