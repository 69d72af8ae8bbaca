"""Your reminders (set in chat, fired in Slack) and the time zone they are read in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from crmassist.api.deps import PrincipalDep, RuntimeDep
from crmassist.api.inputs import ID
from crmassist.db import session_scope
from crmassist.domain.models import User
from crmassist.privacy.disclosure import Disclosure
from crmassist.scheduler import reminders

router = APIRouter(prefix="/v1", tags=["reminders"])


@router.get("/reminders", response_model=list[reminders.ReminderView])
def list_reminders(
    rt: RuntimeDep, principal: PrincipalDep, include_done: bool = False
) -> list[reminders.ReminderView]:
    """Your pending reminders, soonest first (`include_done`: sent and cancelled ones too)."""
    with rt.sessions() as session:
        found = reminders.list_reminders(session, principal, include_done)
    rt.audit.record(principal, "api:reminders", records=[r.id for r in found])
    return Disclosure(principal, rt.redactor).models(found)


@router.delete("/reminders/{reminder_id}", response_model=reminders.ReminderView)
def cancel_reminder(
    rt: RuntimeDep, principal: PrincipalDep, reminder_id: Annotated[str, Path(pattern=ID)]
) -> reminders.ReminderView:
    """Cancel one of your pending reminders (404 if it is not yours or not pending)."""
    with session_scope(rt.sessions) as session:
        cancelled = reminders.cancel_reminder(session, principal, reminder_id)
    rt.audit.record(principal, "reminder:cancel", target=f"reminders/{reminder_id}")
    return Disclosure(principal, rt.redactor).model(cancelled)


class TimeZone(BaseModel):
    time_zone: str = Field(
        max_length=64, description='An IANA time zone, e.g. "Asia/Shanghai", "Europe/Berlin".'
    )


@router.put("/me/time-zone", response_model=TimeZone)
def set_time_zone(rt: RuntimeDep, principal: PrincipalDep, body: TimeZone) -> TimeZone:
    """The zone your morning digest and reminder times are read in."""
    reminders.zone(body.time_zone)  # an unknown zone is a 400 naming it
    with session_scope(rt.sessions) as session:
        user = session.get(User, principal.user_id)
        if user is not None:
            user.time_zone = body.time_zone
    rt.audit.record(principal, "api:time_zone", time_zone=body.time_zone)
    return body
