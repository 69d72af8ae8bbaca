"""Reminders set in chat ("remind me to call Acme on Tuesday at 9"), fired in Slack.

The due time is read in the user's time zone against the one clock: the day with the
project's own date reading (`domain.periods.parse_day`: "Tuesday", "下周二", "明天"), the
time of day here ("at 9", "3pm", "14:30", "下午3点", "9点半"), or a delay ("in 2 hours",
"半小时后"). It is stored in UTC with the zone it was read in. A bare hour from 1 to 6
without am/pm is taken in the afternoon (business hours: "at 3" is 15:00); a day without
a time is at 09:00; a time without a day that has passed today is tomorrow.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from crmassist.access.principal import Principal
from crmassist.crm.errors import NotFound
from crmassist.crm.overview import visible_account
from crmassist.domain.models import Reminder, User
from crmassist.domain.periods import parse_day
from crmassist.errors import CrmassistError

DEFAULT_TIME = time(9)
_ZH_NUMBER = {ch: n for n, ch in enumerate("一二三四五六七八九十", 1)} | {"两": 2, "零": 0}
_TIME_EN = re.compile(
    r"\b(?:at\s+)?(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ap>[ap]\.?m\.?)(?![a-z])"
    r"|\b(?:at\s+)(?P<h2>\d{1,2})(?::(?P<m2>\d{2}))?(?:\s*o'?clock)?\b(?![/-])"
    r"|(?<![\d:])(?P<h3>\d{1,2}):(?P<m3>\d{2})(?!\d)"
    r"|\b(?P<noon>noon|midday|midnight)\b",
    re.IGNORECASE,
)
_TIME_ZH = re.compile(
    r"(?P<part>凌晨|早上|早晨|上午|中午|下午|傍晚|晚上)?\s*"
    r"(?P<h>\d{1,2}|[零一二两三四五六七八九十]{1,3})\s*[点時时](?:\s*(?P<half>半)|\s*(?P<m>\d{1,2}|[一二三四五]?十[一二三四五六七八九]?)\s*分?)?"
)
_PART_OF_DAY = re.compile(
    r"\b(?P<en>morning|afternoon|evening|tonight)\b|(?P<zh>早上|上午|中午|下午|傍晚|晚上)",
    re.IGNORECASE,
)
_PART_HOURS = {"morning": 9, "afternoon": 14, "evening": 18, "tonight": 19, "早上": 9,
               "上午": 9, "中午": 12, "下午": 14, "傍晚": 18, "晚上": 19}  # fmt: skip
_DELAY = re.compile(
    r"\bin\s+(?P<n>\d+|an?|one|two|half an?)\s+(?P<unit>minute|min|hour|hr)s?\b"
    r"|(?P<zn>\d+|[一二两三四五六七八九十]+|半)\s*(?:个)?\s*(?P<zunit>分钟|小时|钟头)(?:之?后|以后)",
    re.IGNORECASE,
)
TIME_PHRASE = re.compile(f"{_TIME_EN.pattern}|{_DELAY.pattern}", re.IGNORECASE)
"""What names a time in English (for taking it out of a reminder's text)."""


class ReminderState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ReminderView(BaseModel):
    id: str
    text: str
    due_at: datetime
    """In the zone it was read in."""
    time_zone: str
    state: ReminderState
    account_id: str | None = None
    sent_at: datetime | None = None
    created: bool = True
    """False when the same request key had already set it."""


class UnreadableTime(CrmassistError):
    """A reminder whose time cannot be read, or has passed."""


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CrmassistError(
            f"unknown time zone {name!r}; use an IANA name such as Asia/Shanghai"
        ) from exc


def user_zone(session: Session, user_id: str, default: str) -> str:
    """The user's time zone, else the service's default."""
    return session.scalar(sa.select(User.time_zone).where(User.id == user_id)) or default


def has_time_of_day(text: str) -> bool:
    """The request names a clock time or a delay: a reminder to fire then, not a task."""
    return bool(_TIME_EN.search(text) or _TIME_ZH.search(text) or _DELAY.search(text))


def read_when(text: str, now: datetime) -> datetime | None:
    """The moment `text` names, in `now`'s time zone, or None if it names none."""
    if (delay := _delay(text)) is not None:
        return now + delay
    day = parse_day(text, now.date())
    at = _time_of_day(text)
    if day is None and at is None:
        return None
    moment = datetime.combine(day or now.date(), at or DEFAULT_TIME, tzinfo=now.tzinfo)
    if day is None and moment <= now:
        moment += timedelta(days=1)
    return moment


def _number(token: str) -> int:
    if token.isdigit():
        return int(token)
    if token in ("a", "an", "one"):
        return 1
    if token == "two":
        return 2
    if "十" in token:
        tens, _, ones = token.partition("十")
        return _ZH_NUMBER.get(tens, 1) * 10 + _ZH_NUMBER.get(ones, 0)
    return sum(_ZH_NUMBER.get(ch, 0) for ch in token)


def _delay(text: str) -> timedelta | None:
    if not (m := _DELAY.search(text)):
        return None
    if m.group("n"):
        n = m.group("n").lower()
        minutes = 30.0 if n.startswith("half") else float(_number(n))
        if m.group("unit").lower() in ("hour", "hr") and not n.startswith("half"):
            minutes *= 60
        return timedelta(minutes=minutes)
    count = 0.5 if m.group("zn") == "半" else float(_number(m.group("zn")))
    return timedelta(minutes=count * (1 if m.group("zunit") == "分钟" else 60))


def _time_of_day(text: str) -> time | None:
    if m := _TIME_EN.search(text):
        if m.group("noon"):
            return time(0) if m.group("noon").lower() == "midnight" else time(12)
        hour = int(m.group("h") or m.group("h2") or m.group("h3"))
        minute = int(m.group("m") or m.group("m2") or m.group("m3") or 0)
        if (ap := (m.group("ap") or "").lower()[:1]) == "p" and hour < 12:
            hour += 12
        elif ap == "a" and hour == 12:
            hour = 0
        elif not ap and m.group("h2") and 1 <= hour <= 6:
            hour += 12  # "at 3": business hours
        return _clock(hour, minute)
    if m := _TIME_ZH.search(text):
        hour = _number(m.group("h"))
        minute = 30 if m.group("half") else _number(m.group("m")) if m.group("m") else 0
        part = m.group("part") or ""
        if (part in ("下午", "傍晚", "晚上") and hour < 12) or (part == "中午" and hour < 6):
            hour += 12
        return _clock(hour, minute)
    if m := _PART_OF_DAY.search(text):
        return time(_PART_HOURS[(m.group("en") or m.group("zh")).lower()])
    return None


def _clock(hour: int, minute: int) -> time | None:
    return time(hour, minute) if 0 <= hour <= 23 and 0 <= minute <= 59 else None


def _view(reminder: Reminder, created: bool = True) -> ReminderView:
    return ReminderView(
        id=reminder.id,
        text=reminder.text,
        due_at=reminder.due_at.astimezone(zone(reminder.time_zone)),
        time_zone=reminder.time_zone,
        state=ReminderState(reminder.state),
        account_id=reminder.account_id,
        sent_at=reminder.sent_at,
        created=created,
    )


def create_reminder(
    session: Session,
    principal: Principal,
    text: str,
    when: str,
    time_zone: str,
    now: datetime,
    account_id: str | None = None,
    idempotency_key: str | None = None,
) -> ReminderView:
    """A reminder for the principal at the moment `when` names in `time_zone`."""
    if idempotency_key and (
        done := session.scalar(
            sa.select(Reminder).where(Reminder.idempotency_key == idempotency_key)
        )
    ):
        return _view(done, created=False)
    local_now = now.astimezone(zone(time_zone))
    due = read_when(when, local_now)
    if due is None:
        raise UnreadableTime(f"cannot read a time in {when!r}; try 'Tuesday at 9' or 'in 2 hours'")
    if due <= local_now:
        raise UnreadableTime(f"{due:%Y-%m-%d %H:%M} has already passed ({time_zone})")
    if account_id:
        account_id = visible_account(session, principal, account_id).id
    reminder = Reminder(
        id=f"R-{uuid.uuid4().hex[:12]}",
        owner_id=principal.user_id,
        text=text[:500],
        due_at=due,
        time_zone=time_zone,
        account_id=account_id,
        state=ReminderState.PENDING.value,
        idempotency_key=idempotency_key,
        created_at=now,
    )
    session.add(reminder)
    session.flush()
    return _view(reminder)


def list_reminders(
    session: Session, principal: Principal, include_done: bool = False
) -> list[ReminderView]:
    """The principal's own reminders, soonest first (a reminder is only its owner's)."""
    query = sa.select(Reminder).where(Reminder.owner_id == principal.user_id)
    if not include_done:
        query = query.where(Reminder.state == ReminderState.PENDING.value)
    return [_view(r) for r in session.scalars(query.order_by(Reminder.due_at, Reminder.id))]


def cancel_reminder(session: Session, principal: Principal, reminder_id: str) -> ReminderView:
    """Cancel one of the principal's pending reminders."""
    reminder = session.scalar(
        sa.select(Reminder).where(
            Reminder.id == reminder_id, Reminder.owner_id == principal.user_id
        )
    )
    if reminder is None:
        raise NotFound(f"no reminder {reminder_id!r} of yours")
    if reminder.state != ReminderState.PENDING.value:
        raise NotFound(f"reminder {reminder_id!r} is {reminder.state}, not pending")
    reminder.state = ReminderState.CANCELLED.value
    session.flush()
    return _view(reminder)


def due_reminders(session: Session, now: datetime, limit: int = 100) -> list[str]:
    """Ids of pending reminders whose time has come, oldest first."""
    query = (
        sa.select(Reminder.id)
        .where(Reminder.state == ReminderState.PENDING.value, Reminder.due_at <= now)
        .order_by(Reminder.due_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def claim(session: Session, reminder_id: str) -> Reminder | None:
    """Take a pending reminder for sending (a conditional UPDATE: only one claimant wins)."""
    taken = session.execute(
        sa.update(Reminder)
        .where(Reminder.id == reminder_id, Reminder.state == ReminderState.PENDING.value)
        .values(state=ReminderState.SENDING.value)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.get(Reminder, reminder_id)
