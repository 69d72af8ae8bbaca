"""The scheduler inside the service: every process runs it, the lease holder sends.

An APScheduler background job ticks every `scheduler_tick_seconds` (one run at a time,
missed runs coalesced). A tick takes or renews the lease; only its holder sends the
morning digests that are due and fires the reminders whose time has come.

At most once, across restarts and processes: a digest is claimed by inserting its
`digest_sends` row (unique per user, day and kind) in state `sending` *before* Slack is
called, and a reminder by a conditional UPDATE from `pending` to `sending`; after the
call the row becomes `sent` (or `failed` when Slack answered that it did not deliver).
A crash between the call and that update leaves the row `sending`, and nothing sends it
again: a digest may be lost, never doubled. Every send and failure is audited.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from crmassist.access.audit import AuditLog
from crmassist.access.directory import principal_for
from crmassist.access.principal import Principal
from crmassist.domain.clock import Clock
from crmassist.domain.models import DigestSend, Reminder, User
from crmassist.errors import CrmassistError
from crmassist.privacy.disclosure import Disclosure
from crmassist.privacy.redactor import Redactor
from crmassist.scheduler import reminders
from crmassist.scheduler.digests import Digest, DigestKind, build_digest, kind_for, render
from crmassist.scheduler.lease import Lease, wall_clock
from crmassist.settings import Settings

log = logging.getLogger(__name__)
LEASE = "proactive"


class NotDelivered(CrmassistError):
    """Slack answered that the message was not delivered (so sending again is no double)."""


@dataclass(frozen=True)
class Recipient:
    user_id: str
    email: str
    slack_user_id: str | None


class Sender(Protocol):
    def send(self, to: Recipient, text: str) -> str:
        """Deliver `text` (Markdown) as a direct message; the message's id. Raises
        `NotDelivered` when it surely was not delivered."""
        ...


@dataclass
class TickReport:
    leader: bool = False
    digests: list[str] = field(default_factory=list)
    """`user/day/kind` of the digests sent this tick."""
    reminders: list[str] = field(default_factory=list)


class ProactiveScheduler:
    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        audit: AuditLog,
        clock: Clock,
        redactor: Callable[[], Redactor],
        sender: Sender,
        holder: str | None = None,
        wall: Callable[[], datetime] = wall_clock,
    ) -> None:
        self.settings = settings
        self._sessions = sessions
        self._audit = audit
        self._clock = clock
        self._redactor = redactor
        self._sender = sender
        holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        ttl = timedelta(seconds=settings.scheduler_lease_seconds)
        self.lease = Lease(sessions, LEASE, holder, ttl, wall)
        self._jobs: BackgroundScheduler | None = None

    # -- running ----------------------------------------------------------------------------

    def start(self) -> None:
        jobs = BackgroundScheduler(timezone=UTC)
        jobs.add_job(
            self._safe_tick,
            "interval",
            seconds=self.settings.scheduler_tick_seconds,
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
            id="proactive",
        )
        jobs.start()
        self._jobs = jobs
        log.info("scheduler started (lease holder id %s)", self.lease.holder)

    def stop(self) -> None:
        """Wait for a running tick, then hand the lease over."""
        if self._jobs is not None:
            self._jobs.shutdown(wait=True)
            self._jobs = None
            self.lease.release()

    def _safe_tick(self) -> None:
        try:
            self.tick()
        except Exception:  # the next tick tries again; a job must not die silently
            log.exception("scheduler tick failed")

    def tick(self) -> TickReport:
        if not self.lease.acquire():
            return TickReport()
        now = self._clock.now()
        return TickReport(True, self.send_digests(now), self.fire_reminders(now))

    # -- digests ----------------------------------------------------------------------------

    def send_digests(self, now: datetime) -> list[str]:
        with self._sessions() as session:
            users = session.execute(
                sa.select(User.id, User.email, User.slack_user_id, User.time_zone, User.role)
            ).all()
        sent = []
        for user_id, email, slack_id, tz, role in users:
            kind = kind_for(role)
            local = now.astimezone(reminders.zone(tz or self.settings.default_time_zone))
            if kind is None or local.hour < self.settings.digest_hour:
                continue
            if self._digest(Recipient(user_id, email, slack_id), kind, local):
                sent.append(f"{user_id}/{local.date()}/{kind.value}")
        return sent

    def _digest(self, to: Recipient, kind: DigestKind, local: datetime) -> bool:
        day = local.date()
        with self._sessions() as session:
            done = session.scalar(
                sa.select(DigestSend.id).where(
                    DigestSend.user_id == to.user_id, DigestSend.day == day,
                    DigestSend.kind == kind.value,
                )
            )  # fmt: skip
            if done is not None:
                return False
            principal = principal_for(session, to.user_id)
            digest = build_digest(
                session, principal, kind, day, self._baseline(session, to, kind, day)
            )
        empty = digest.items == 0
        if not self._claim(digest, "empty" if empty else "sending"):
            return False  # another holder claimed it first
        if empty:
            return False
        shown = self._disclosed(principal, digest)
        return self._deliver(principal, to, digest, render(shown))

    def _baseline(
        self, session: Session, to: Recipient, kind: DigestKind, day: object
    ) -> dict[str, str] | None:
        snapshot = session.scalar(
            sa.select(DigestSend.snapshot)
            .where(DigestSend.user_id == to.user_id, DigestSend.kind == kind.value,
                   DigestSend.day < day)
            .order_by(DigestSend.day.desc())
            .limit(1)
        )  # fmt: skip
        return dict(snapshot) if snapshot is not None else None

    def _claim(self, digest: Digest, state: str) -> bool:
        try:
            with self._sessions.begin() as session:
                session.add(
                    DigestSend(
                        user_id=digest.user_id, day=digest.day, kind=digest.kind.value,
                        state=state, items=digest.items, snapshot=digest.snapshot,
                        claimed_at=datetime.now(UTC),
                    )
                )  # fmt: skip
        except sa.exc.IntegrityError:
            return False
        return True

    def _disclosed(self, principal: Principal, digest: Digest) -> Digest:
        """Every line as the reader's role may see it (redact, gate, reveal by role)."""
        disclosure = Disclosure(principal, self._redactor())
        return digest.model_copy(
            update={"sections": disclosure.models(digest.sections), "snapshot": {}}
        )

    def _deliver(self, principal: Principal, to: Recipient, digest: Digest, text: str) -> bool:
        target = f"digest/{digest.kind.value}/{digest.day}"
        where = (
            (DigestSend.user_id == digest.user_id)
            & (DigestSend.day == digest.day)
            & (DigestSend.kind == digest.kind.value)
        )
        try:
            message = self._sender.send(to, text)
        except NotDelivered as exc:
            self._finish(DigestSend, where, state="failed", error=str(exc)[:500])
            self._audit.record(principal, "digest:failed", target=target, error=str(exc))
            return False
        except Exception as exc:  # delivered or not, nobody knows: never sent again
            log.exception("digest %s for %s: outcome unknown", target, to.user_id)
            self._audit.record(principal, "digest:unknown", target=target, error=str(exc))
            return False
        self._finish(DigestSend, where, state="sent", sent_at=datetime.now(UTC))
        self._audit.record(
            principal, "digest:sent", target=target, records=digest.records,
            items=digest.items, message=message,
        )  # fmt: skip
        return True

    def _finish(
        self, model: type[DigestSend] | type[Reminder], where: object, **values: object
    ) -> None:
        update = sa.update(model).where(where).values(**values)  # type: ignore[arg-type]
        with self._sessions.begin() as session:
            session.execute(update.execution_options(synchronize_session=False))

    # -- reminders --------------------------------------------------------------------------

    def fire_reminders(self, now: datetime) -> list[str]:
        with self._sessions() as session:
            due = reminders.due_reminders(session, now)
        return [rid for rid in due if self._fire(rid)]

    def _fire(self, reminder_id: str) -> bool:
        with self._sessions.begin() as session:
            reminder = reminders.claim(session, reminder_id)
            if reminder is None:
                return False
            owner = session.get(User, reminder.owner_id)
            if owner is None:  # the user was removed: nobody to remind
                reminder.state = reminders.ReminderState.FAILED.value
                return False
            principal = principal_for(session, owner.id)
            to = Recipient(owner.id, owner.email, owner.slack_user_id)
            local = reminder.due_at.astimezone(reminders.zone(reminder.time_zone))
            text = reminder.text
        shown = Disclosure(principal, self._redactor()).text(text)
        where = Reminder.id == reminder_id
        target = f"reminders/{reminder_id}"
        try:
            message = self._sender.send(to, f"**Reminder** ({local:%a %d %b %H:%M}): {shown}")
        except NotDelivered as exc:
            self._finish(Reminder, where, state="failed")
            self._audit.record(principal, "reminder:failed", target=target, error=str(exc))
            return False
        except Exception as exc:
            log.exception("reminder %s: outcome unknown", reminder_id)
            self._audit.record(principal, "reminder:unknown", target=target, error=str(exc))
            return False
        self._finish(Reminder, where, state="sent", sent_at=datetime.now(UTC))
        self._audit.record(principal, "reminder:sent", target=target, message=message)
        return True
