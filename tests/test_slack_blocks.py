"""Block Kit building: Slack's dialect of Markdown and the Log to CRM modal."""

from __future__ import annotations

from crmassist.slack.blocks import log_modal, mrkdwn


def test_bold_and_tables_become_slack_mrkdwn() -> None:
    text = "**Acme**: 2 deals\n| stage | count |\n|---|---|\n| proposal | 2 |\n"
    assert mrkdwn(text).startswith("*Acme*: 2 deals\n```\n| stage | count |")


def test_up_to_a_hundred_customers_are_a_list_with_the_current_one_chosen() -> None:
    accounts = [(f"A{n:03}", f"Customer {n}") for n in range(100)]
    select = log_modal(accounts, "note", "{}", "A007")["blocks"][0]["element"]
    assert select["type"] == "static_select" and len(select["options"]) == 100
    assert select["initial_option"]["value"] == "A007"


def test_more_customers_are_searched_as_the_user_types() -> None:
    accounts = [(f"A{n:03}", f"Customer {n}") for n in range(150)]
    select = log_modal(accounts, "note", "{}", "A120")["blocks"][0]["element"]
    assert select["type"] == "external_select" and "options" not in select
    assert select["initial_option"]["value"] == "A120"
