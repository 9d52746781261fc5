"""Send one e-mail over SMTP: the transport behind the follow-up outbox.

``Mailer`` is the small interface (tests of other things may pass a fake); ``SmtpMailer``
speaks to the server named by FAQBOT_SMTP_URL with the standard library's smtplib:
smtps:// is TLS from the first byte; smtp:// upgrades with STARTTLS when the server
offers it (``?starttls=require`` refuses a server that does not, ``off`` never tries).
A password is never sent over a connection that is not encrypted, except to a server on
this machine.

Failures are sorted for the outbox: :class:`MailDeferred` (the server is away, busy or
answered 4xx: try again later) or :class:`MailRefused` (5xx for this message or address:
trying again will not help).
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Protocol

from bot.errors import ConfigError, FaqbotError
from bot.settings import SmtpTarget

_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


class MailError(FaqbotError):
    """A mail could not be handed to the SMTP server."""


class MailDeferred(MailError):
    """A temporary failure: the outbox tries again later."""


class MailRefused(MailError):
    """A permanent refusal of this message: the outbox gives up on it."""


class Mailer(Protocol):
    """Hands one message to a mail server."""

    def send(self, message: EmailMessage) -> None:
        """Send ``message`` or raise MailDeferred / MailRefused."""


class SmtpMailer:
    """Send through one SMTP server (a new connection per message: mails are few)."""

    def __init__(self, target: SmtpTarget) -> None:
        if target.password is not None and target.username is None:
            raise ConfigError("FAQBOT_SMTP_URL has a password but no user name")
        self.target = target

    def send(self, message: EmailMessage) -> None:
        """Send ``message``; raise MailDeferred or MailRefused when it was not accepted."""
        t = self.target
        try:
            with self._connect() as smtp:
                smtp.ehlo()
                encrypted = t.implicit_tls
                if not encrypted and t.starttls != "off":
                    if smtp.has_extn("starttls"):
                        smtp.starttls(context=ssl.create_default_context())
                        smtp.ehlo()
                        encrypted = True
                    elif t.starttls == "require":
                        raise MailDeferred(f"{t.host}:{t.port} does not offer STARTTLS "
                                           "(FAQBOT_SMTP_URL has starttls=require)")
                if t.username is not None:
                    if not encrypted and t.host not in _LOCAL_HOSTS:
                        raise MailDeferred(
                            f"{t.host}:{t.port} offers no encryption; the password is not "
                            "sent in clear text (use smtps:// or a server with STARTTLS)"
                        )
                    smtp.login(t.username, t.password or "")
                refused = smtp.send_message(message)
        except MailError:
            raise
        except smtplib.SMTPRecipientsRefused as exc:
            raise _sorted(exc.recipients) from None
        except smtplib.SMTPResponseException as exc:
            text = exc.smtp_error.decode("utf-8", "replace") if isinstance(
                exc.smtp_error, bytes) else str(exc.smtp_error)
            # Only the message itself refused for good (5xx to DATA) is given up on; a
            # refused login or sender is this server's setup, which someone will fix.
            permanent = isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code >= 500
            kind = MailRefused if permanent else MailDeferred
            raise kind(f"{t.host}:{t.port} answered {exc.smtp_code} {text}") from None
        except (smtplib.SMTPException, OSError) as exc:  # refused, timed out, TLS failed
            raise MailDeferred(f"{t.host}:{t.port}: {type(exc).__name__}: {exc}") from None
        if refused:
            raise _sorted(refused)

    def _connect(self) -> smtplib.SMTP:
        t = self.target
        if t.implicit_tls:
            return smtplib.SMTP_SSL(t.host, t.port, timeout=t.timeout,
                                    context=ssl.create_default_context())
        return smtplib.SMTP(t.host, t.port, timeout=t.timeout)


def _sorted(refused: dict[str, tuple[int, bytes]]) -> MailError:
    """Turn smtplib's per-recipient refusals (one recipient here) into one error."""
    parts = [f"{code} {msg.decode('utf-8', 'replace')}" for code, msg in refused.values()]
    permanent = all(500 <= code < 600 for code, _msg in refused.values())
    return (MailRefused if permanent else MailDeferred)("recipient refused: " + "; ".join(parts))
