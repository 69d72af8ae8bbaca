"""The Slack interface: a Bolt app over the runtime's assistant and CRM services."""

from crmassist.slack.bot import build_slack_app

__all__ = ["build_slack_app"]
