"""Hiding packages from one import, and finding published contact points without a model."""

from __future__ import annotations

import importlib
import sys

import pytest

from crmassist.privacy.detectors import contact_points
from crmassist.privacy.lean_imports import hidden


def test_a_hidden_package_reads_as_not_installed_inside_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    with hidden("colorsys"), pytest.raises(ImportError):
        importlib.import_module("colorsys")
    assert importlib.import_module("colorsys").rgb_to_hsv(1, 0, 0)[0] == 0.0


def test_an_imported_package_is_left_alone() -> None:
    import json

    with hidden("json"):
        assert importlib.import_module("json") is json
    assert sys.modules["json"] is json


def test_contact_points_are_the_addresses_and_numbers_only() -> None:
    pages = [
        "Write to help@brightwater.example or call +44 20 7946 0321 (Mon-Fri).",
        "售后服务热线：400-615-2288，邮箱 fuwu@qingquan.example。联系人：周建国。",
        "Order PO-2291-17, firmware 4.2.1, card ending 4242; ask for Hannah Ostrowski.",
    ]
    assert contact_points(pages) == {
        "help@brightwater.example",
        "+44 20 7946 0321",
        "400-615-2288",
        "fuwu@qingquan.example",
    }
