"""Email over SMTP: a multipart message (plain text and HTML) to the planned recipients.

STARTTLS (default) or TLS from the start; login when the channel names credentials. SMTP
4xx replies, lost connections and timeouts are retried; 5xx replies, a failed login and a
server without STARTTLS are permanent. The Message-ID is derived from the message key, so a
message sent again after a lost reply can be recognised as the same one.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from email.utils import formatdate

from leadroute.adapters.notify import http
from leadroute.domain.notify import DELIVERY_HEADER, DeliveryError, EmailChannel, OutboxMessage


class EmailSender:
    """Implements `Sender` for one `email:` channel."""

    def __init__(
        self,
        model: EmailChannel,
        *,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.model = model
        self._context = ssl_context
        self._clock = clock

    def compose(self, message: OutboxMessage) -> EmailMessage:
        payload = message.payload
        domain = self.model.sender.rsplit("@", 1)[1]
        mail = EmailMessage()
        try:
            mail["From"] = self.model.sender
            mail["To"] = ", ".join(payload["to"])
            mail["Subject"] = payload["subject"]
            mail["Date"] = formatdate(self._clock(), usegmt=True)
            digest = hashlib.sha256(message.key.encode()).hexdigest()[:32]
            mail["Message-ID"] = f"<{digest}@{domain}>"
            mail[DELIVERY_HEADER] = message.key
            mail.set_content(payload["text"])
            mail.add_alternative(payload["html"], subtype="html")
        except (KeyError, TypeError, ValueError) as exc:
            raise DeliveryError(f"malformed email message: {exc}", retryable=False) from None
        return mail

    def send(self, message: OutboxMessage, *, env: Mapping[str, str]) -> None:
        model = self.model
        mail = self.compose(message)
        login = None
        if model.username_env is not None and model.password_env is not None:
            login = (http.secret(env, model.username_env), http.secret(env, model.password_env))
        context = self._context or ssl.create_default_context()
        smtp: smtplib.SMTP | None = None
        try:
            if model.ssl:
                smtp = smtplib.SMTP_SSL(
                    model.host, model.port, timeout=model.timeout_seconds, context=context
                )
            else:
                smtp = smtplib.SMTP(model.host, model.port, timeout=model.timeout_seconds)
            smtp.ehlo()
            if model.starttls:
                if not smtp.has_extn("starttls"):
                    raise DeliveryError(
                        f"{model.host} does not offer STARTTLS (set starttls: false only for a "
                        "trusted local relay)",
                        retryable=False,
                    )
                smtp.starttls(context=context)
                smtp.ehlo()
            if login is not None:
                smtp.login(*login)
            smtp.send_message(mail, from_addr=model.sender, to_addrs=list(message.payload["to"]))
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            detail = "; ".join(
                f"{rcpt}: {code} {_text(reply)}" for rcpt, (code, reply) in exc.recipients.items()
            )
            transient = any(400 <= code < 500 for code in codes)
            raise DeliveryError(f"recipients refused: {detail}", retryable=transient) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"login failed: {exc.smtp_code} {_text(exc.smtp_error)}", retryable=False
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"SMTP {exc.smtp_code} {_text(exc.smtp_error)}",
                retryable=400 <= exc.smtp_code < 500,
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(f"SMTP: {exc}", retryable=False) from None
        except ssl.SSLCertVerificationError as exc:
            raise DeliveryError(f"TLS: {exc.verify_message or exc}", retryable=False) from None
        except (smtplib.SMTPException, OSError) as exc:  # disconnects, refusals, timeouts
            raise DeliveryError(f"SMTP {type(exc).__name__}: {exc}", retryable=True) from None
        finally:
            if smtp is not None:
                _quit(smtp)

    def close(self) -> None:
        """Nothing is held between messages: each opens its own connection."""


def _quit(smtp: smtplib.SMTP) -> None:
    """Say goodbye; the message is delivered already, so a failure here is no failure."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _text(reply: bytes | str) -> str:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:300]
