"""The deployment files say what the code reads: every CRMASSIST_ variable that
docker-compose.yml sets or the README documents is a real setting, and the compose
environment builds valid production settings (PostgreSQL, a Qdrant server)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from crmassist.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
VARIABLES = {f"CRMASSIST_{name.upper()}" for name in Settings.model_fields}


def with_defaults(value: object) -> str:
    """`${NAME:-default}` as compose resolves it with NAME unset."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(value))


def test_compose_sets_only_real_settings_and_they_validate(monkeypatch: pytest.MonkeyPatch) -> None:
    env = COMPOSE["services"]["crmassist"]["environment"]
    assert set(env) <= VARIABLES, f"unknown settings: {set(env) - VARIABLES}"
    for name in [n for n in os.environ if n.startswith("CRMASSIST_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, with_defaults(value))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.resolved_database_url.startswith("postgresql+psycopg://")
    assert str(settings.qdrant_url).startswith("http://qdrant:6333")
    assert settings.llm == "offline"
    slack_off = settings.slack_bot_token is None or not settings.slack_bot_token.get_secret_value()
    assert slack_off  # empty means unset: Slack stays off until both secrets are given


def test_every_service_is_health_checked_and_the_app_waits_for_its_stores() -> None:
    services = COMPOSE["services"]
    assert all("healthcheck" in service for service in services.values())
    waits = services["crmassist"]["depends_on"]
    assert waits == {name: {"condition": "service_healthy"} for name in ("postgres", "qdrant")}


def test_the_readme_documents_every_setting_and_no_other() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    documented = set(re.findall(r"`(CRMASSIST_[A-Z_]+)`", readme))
    assert not VARIABLES - documented, f"undocumented: {VARIABLES - documented}"
    assert not documented - VARIABLES, f"not settings: {documented - VARIABLES}"


def test_the_slack_manifest_grants_what_the_bot_uses() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text("utf-8"))
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # mentions, DMs, /crm, replies, chart images, e-mail lookup of unmapped users
    needed = {"app_mentions:read", "im:history", "commands", "chat:write", "files:write"}
    assert needed | {"users:read", "users:read.email"} <= scopes
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_mention",
        "message.im",
    }
    interactivity = manifest["settings"]["interactivity"]  # buttons, modal, customer search
    urls = [
        interactivity["request_url"],
        interactivity["message_menu_options_url"],
        manifest["settings"]["event_subscriptions"]["request_url"],
        *(c["url"] for c in manifest["features"]["slash_commands"]),
    ]
    assert all(url.endswith("/slack/events") for url in urls)
    assert manifest["features"]["shortcuts"][0]["callback_id"] == "log_to_crm"
