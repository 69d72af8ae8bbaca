"""`Idempotency-Key` replays on POST /v1/interactions: the same key with the same request
answers the note it logged; with a different request it is refused (422), as Stripe does,
since answering the first note would pass it off as this one."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmassist.api.errors import IdempotencyKeyReused
from crmassist.crm.activity import InteractionFields, LoggedInteraction
from crmassist.domain.models import Interaction, Task


def require_same_request(
    session: Session, logged: LoggedInteraction, body: InteractionFields, key: str
) -> None:
    """Compare the replay with the note its key logged, field by field. Fields the first
    request may have left to defaults (the time, the task's title) only count when given."""
    note = session.get(Interaction, logged.interaction_id)
    assert note is not None  # it was just found by its key
    task = session.scalar(sa.select(Task).where(Task.interaction_id == note.id))
    same = {
        "account_id": body.account_id == note.account_id,
        "channel": body.channel == note.channel,
        "summary": body.summary == note.body,
        "contact_id": body.contact_id == note.contact_id,
        "subject": body.subject == note.subject,
        "occurred_at": body.occurred_at in (None, note.occurred_at),
        "follow_up_on": body.follow_up_on == (task.due_date if task else None),
        "follow_up_title": body.follow_up_title in (None, task.title if task else None),
    }
    if differs := [name for name, ok in same.items() if not ok]:
        raise IdempotencyKeyReused(
            f"Idempotency-Key {key!r} already logged a different note ({', '.join(differs)} "
            "differ); send a new key for a new note"
        )
