"""Send the follow-up mails from the database: claimed atomically, retried with backoff.

Every server process runs an :class:`OutboxJob`. A mail is sent by whoever claims its row
first: the claim is one conditional ``UPDATE ... WHERE state = 'pending' AND due_at <= now``
(or a lapsed lease) whose row count says who won, on SQLite and PostgreSQL alike, so
several processes or machines never send the same row. A claim holds a lease; a process
that dies between claim and send leaves the row to be claimed again when the lease runs
out. A server that is away or answers 4xx makes the row wait ``backoff * 2**(tries-1)``
(at most an hour) and try again; a 5xx to the message itself, or ``max_attempts`` tries,
marks it failed, logged. Nothing is lost when a process or the SMTP server stops.

The one window left is a crash after the SMTP server accepted a mail and before the row
is marked sent: the mail then goes again, with the same Message-ID, which mail clients
show once.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update

from bot.chat.followup import CONNECTED_SECONDS, Followup
from bot.errors import ConfigError
from bot.runtime.jobs import PeriodicJob
from bot.runtime.smtp import Mailer, MailRefused
from bot.store.db import Database
from bot.store.models import MailOutbox, utcnow

log = logging.getLogger(__name__)

BACKOFF_CAP_SECONDS = 3600.0


@dataclass
class OutboxReport:
    """What one round did, by outcome."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1


class Outbox:
    """Claims due mails and sends them through a :class:`~bot.runtime.smtp.Mailer`."""

    def __init__(
        self,
        db: Database,
        followup: Followup,
        mailer: Mailer,
        *,
        lease_seconds: float = 300.0,
        backoff_seconds: float = 60.0,
        max_attempts: int = 30,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if lease_seconds <= 0 or backoff_seconds <= 0 or max_attempts < 1:
            raise ConfigError("the outbox needs a positive lease and backoff and >= 1 attempt")
        self.db = db
        self.followup = followup
        self.mailer = mailer
        self.lease = timedelta(seconds=lease_seconds)
        self.backoff = backoff_seconds
        self.max_attempts = max_attempts
        self.clock = clock

    @staticmethod
    def _claimable(now: datetime) -> ColumnElement[bool]:
        return or_(
            and_(MailOutbox.state == "pending", MailOutbox.due_at <= now),
            and_(MailOutbox.state == "sending", MailOutbox.lease_until < now),
        )

    def claim(self, limit: int = 1) -> list[tuple[int, str]]:
        """Claim up to ``limit`` due rows; return (row id, claim token) for each one won."""
        now = self.clock()
        with self.db.read() as s:
            ids = s.scalars(
                select(MailOutbox.id).where(self._claimable(now))
                .order_by(MailOutbox.due_at, MailOutbox.id).limit(limit)
            ).all()
        won = []
        for row_id in ids:
            token = secrets.token_hex(8)
            with self.db.write() as s:
                result = s.execute(
                    update(MailOutbox)
                    .where(MailOutbox.id == row_id, self._claimable(now))
                    .values(state="sending", claim=token, lease_until=now + self.lease,
                            attempts=MailOutbox.attempts + 1)
                )
            if getattr(result, "rowcount", 0) == 1:
                won.append((row_id, token))
        return won

    def send(self, row_id: int, token: str) -> str:
        """Send (or skip, or postpone) one claimed row; return the outcome."""
        now = self.clock()
        with self.db.read() as s:
            row = s.get(MailOutbox, row_id)
            if row is None or row.claim != token:
                return "lost"
            mail, why = self.followup.pending_mail(s, row)
            here = mail is not None and self.followup.shopper_here(s, row.conversation_id, now)
            attempts = row.attempts
        if mail is None:
            return self._finish(row_id, token, "skipped", why)
        if here:
            # The shopper is on the page: the reply shows there within seconds. Look again.
            due = now + timedelta(seconds=CONNECTED_SECONDS)
            return self._finish(row_id, token, "pending", None, due=due, refund=True,
                                outcome="postponed")
        try:
            self.mailer.send(self.followup.compose(mail, now))
        except MailRefused as exc:
            log.warning("mail %d refused for good: %s", row_id, exc)
            return self._finish(row_id, token, "failed", str(exc))
        except Exception as exc:  # MailDeferred, or anything unexpected: try again later
            if attempts >= self.max_attempts:
                log.error("mail %d failed after %d tries: %s", row_id, attempts, exc)
                return self._finish(row_id, token, "failed", str(exc))
            wait = min(BACKOFF_CAP_SECONDS, self.backoff * 2 ** (attempts - 1))
            log.info("mail %d deferred (try %d), again in %.0f s: %s", row_id, attempts, wait,
                     exc)
            return self._finish(row_id, token, "pending", str(exc),
                                due=now + timedelta(seconds=wait), outcome="deferred")
        log.info("mail %d sent for conversation %s", row_id, mail.conversation_id[:8])
        return self._finish(row_id, token, "sent", None, sent_at=now)

    def _finish(self, row_id: int, token: str, state: str, error: str | None, *,
                due: datetime | None = None, sent_at: datetime | None = None,
                refund: bool = False, outcome: str | None = None) -> str:
        values: dict[str, object] = {"state": state, "claim": None, "lease_until": None,
                                     "last_error": error[:2000] if error else None}
        if due is not None:
            values["due_at"] = due
        if sent_at is not None:
            values["sent_at"] = sent_at
        if refund:
            values["attempts"] = MailOutbox.attempts - 1
        with self.db.write() as s:
            result = s.execute(update(MailOutbox)
                               .where(MailOutbox.id == row_id, MailOutbox.claim == token)
                               .values(**values))
        # Our lease ran out and another process took the row: its word counts.
        return (outcome or state) if getattr(result, "rowcount", 0) == 1 else "lost"

    def run_once(self, limit: int = 50) -> OutboxReport:
        """Send every due mail, one claim at a time (up to ``limit``)."""
        report = OutboxReport()
        for _ in range(limit):
            claimed = self.claim(1)
            if not claimed:
                break
            report.add(self.send(*claimed[0]))
        return report


class OutboxJob(PeriodicJob):
    """Run :meth:`Outbox.run_once` every few seconds on a daemon thread."""

    thread_name = "faqbot-outbox"

    def __init__(self, outbox: Outbox, interval_seconds: float = 2.0) -> None:
        super().__init__(interval_seconds)
        self.outbox = outbox

    def run_once(self) -> OutboxReport:
        """Send what is due."""
        return self.outbox.run_once()
