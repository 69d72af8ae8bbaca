"""The proactive assistant: morning digests and reminders, sent in Slack by a scheduler
that one process of many runs at a time (see `service`)."""
