"""Notification senders against real receivers on 127.0.0.1: Slack and webhook HTTP servers
(the webhook one checks HMAC signatures) and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import ssl
import subprocess
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from leadroute.adapters.notify import EmailSender, SlackSender, WebhookSender, build_senders
from leadroute.domain.notify import (
    DeliveryError,
    EmailChannel,
    NotificationsModel,
    OutboxMessage,
    SlackChannel,
    WebhookChannel,
    verify_signature,
)
from tests.receivers import Reply, Request, free_port, http_receiver, password_check, smtp_receiver

SLACK = OutboxMessage(
    "slack",
    "sales_slack",
    "lead.assigned",
    "L1",
    {
        "text": "New lead for Rita One: Ada Lovelace (Acme)",
        "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "New lead \u2713"}}],
    },
    "assigned:slack:sales_slack:abc",
)
HOOK = OutboxMessage(
    "webhook",
    "ops_hook",
    "lead.assigned",
    "L1",
    {"id": "assigned:webhook:ops_hook:abc", "event": "lead.assigned", "lead": {"id": "L1"}},
    "assigned:webhook:ops_hook:abc",
)
MAIL = OutboxMessage(
    "email",
    "rep_email",
    "lead.assigned",
    "L1",
    {
        "to": ["r1@example.com", "m1@example.com"],
        "subject": "New lead for Rita One: Ada Lovelace (Acme)",
        "text": "New lead L1: Ada Lovelace\n",
        "html": "<p>New lead L1: Ada &amp; co</p>",
    },
    "assigned:email:rep_email:abc",
)


def slack_sender(timeout: float = 5) -> SlackSender:
    return SlackSender(SlackChannel(webhook_url_env="SLACK_URL", timeout_seconds=timeout))


def failure(send: Any) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        send()
    return caught.value


# -- Slack -----------------------------------------------------------------------------------------


def test_slack_posts_the_block_kit_json_to_the_webhook_url_from_the_environment() -> None:
    with http_receiver() as slack:
        sender = slack_sender()
        sender.send(SLACK, env={"SLACK_URL": slack.url("/services/T0/B0/secret")})
        sender.close()
    (request,) = slack.requests
    assert (request.method, request.path) == ("POST", "/services/T0/B0/secret")
    assert request.headers["content-type"].startswith("application/json")
    assert request.json() == SLACK.payload


@pytest.mark.parametrize(
    ("reply", "retryable", "text"),
    [
        (Reply(400, "invalid_payload"), False, "HTTP 400: invalid_payload"),
        (Reply(404, "no_service"), False, "HTTP 404: no_service"),
        (Reply(410, "channel_is_archived"), False, "HTTP 410: channel_is_archived"),
        (Reply(500, "rollup_error"), True, "HTTP 500: rollup_error"),
        (Reply(429, "rate_limited", {"Retry-After": "7"}), True, "HTTP 429: rate_limited"),
    ],
)
def test_slack_errors_are_sorted_and_never_show_the_secret_url(
    reply: Reply, retryable: bool, text: str
) -> None:
    with http_receiver(lambda _: reply) as slack:
        sender = slack_sender()
        env = {"SLACK_URL": slack.url("/services/T0/B0/secret")}
        error = failure(lambda: sender.send(SLACK, env=env))
        sender.close()
    assert (str(error), error.retryable) == (text, retryable)
    assert error.retry_after == (7.0 if reply.status == 429 else None)
    assert "secret" not in str(error)


def test_slack_down_or_slow_is_retryable_and_a_missing_url_is_not() -> None:
    sender = slack_sender(timeout=0.2)
    down = failure(lambda: sender.send(SLACK, env={"SLACK_URL": f"http://127.0.0.1:{free_port()}"}))
    assert down.retryable and str(down) == "connection failed (ConnectError)"
    with http_receiver(lambda _: Reply(body="ok", delay=0.6)) as slow:
        late = failure(lambda: sender.send(SLACK, env={"SLACK_URL": slow.url("/x")}))
    assert late.retryable and str(late) == "timeout after 0.2 s"
    unset = failure(lambda: sender.send(SLACK, env={}))
    assert not unset.retryable and str(unset) == "environment variable SLACK_URL is not set"
    sender.close()


# -- webhooks --------------------------------------------------------------------------------------


def signed_by(secret: str) -> Any:
    """A receiver that verifies the signature as a user's would: HMAC-SHA256 of
    "<timestamp>.<raw body>" with the shared secret, compared in constant time."""

    def respond(request: Request) -> Reply:
        timestamp = request.headers.get("x-leadroute-timestamp", "")
        expected = hmac.new(
            secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256
        ).hexdigest()
        given = request.headers.get("x-leadroute-signature", "")
        if not hmac.compare_digest(f"sha256={expected}", given):
            return Reply(401, "bad signature")
        return Reply(204)

    return respond


def test_webhooks_are_signed_over_timestamp_and_body() -> None:
    model = WebhookChannel(url="http://127.0.0.1:1/hook", secret_env="HOOK_SECRET")
    with http_receiver(signed_by("s3cret")) as hook:
        model = model.model_copy(update={"url": hook.url("/hook")})
        sender = WebhookSender(model, clock=lambda: 1_700_000_000.5)
        sender.send(HOOK, env={"HOOK_SECRET": "s3cret"})
        sender.close()
    (request,) = hook.requests
    assert (request.method, request.path) == ("POST", "/hook")
    assert json.loads(request.body) == HOOK.payload
    headers = request.headers
    assert headers["x-leadroute-timestamp"] == "1700000000"
    assert headers["x-leadroute-event"] == "lead.assigned"
    assert headers["x-leadroute-delivery"] == HOOK.key
    assert verify_signature(
        "s3cret",
        headers["x-leadroute-timestamp"],
        request.body,
        headers["x-leadroute-signature"],
        now=1_700_000_030,
    )


def test_a_webhook_signed_with_the_wrong_secret_is_refused_for_good() -> None:
    with http_receiver(signed_by("s3cret")) as hook:
        sender = WebhookSender(WebhookChannel(url=hook.url("/hook"), secret_env="HOOK_SECRET"))
        error = failure(lambda: sender.send(HOOK, env={"HOOK_SECRET": "guess"}))
        sender.close()
    assert not error.retryable and str(error) == "HTTP 401: bad signature"


def test_senders_are_built_per_configured_channel() -> None:
    model = NotificationsModel.model_validate(
        {
            "channels": {
                "a": {"slack": {"webhook_url_env": "A"}},
                "b": {"email": {"host": "h", "from": "x@y.co", "to": ["rep"]}},
                "c": {"webhook": {"url": "https://x.io", "secret_env": "C"}},
            }
        }
    )
    senders = build_senders(model)
    kinds = {key: type(sender) for key, sender in senders.items()}
    assert kinds == {
        ("slack", "a"): SlackSender,
        ("email", "b"): EmailSender,
        ("webhook", "c"): WebhookSender,
    }
    for sender in senders.values():
        sender.close()
    assert build_senders(None) == {}


# -- email -----------------------------------------------------------------------------------------


def email_model(port: int, **overrides: Any) -> EmailChannel:
    settings: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "from": "routing@example.com",
        "to": ["rep"],
        "starttls": False,
        "timeout_seconds": 5,
    }
    return EmailChannel.model_validate({**settings, **overrides})


def test_email_is_delivered_as_text_and_html_to_every_recipient() -> None:
    with smtp_receiver() as (mailbox, port):
        EmailSender(email_model(port), clock=lambda: 1_700_000_000).send(MAIL, env={})
    (envelope,) = mailbox.envelopes
    assert envelope.mail_from == "routing@example.com"
    assert envelope.rcpt_tos == ["r1@example.com", "m1@example.com"]
    (mail,) = mailbox.messages()
    assert mail["Subject"] == MAIL.payload["subject"]
    assert mail["To"] == "r1@example.com, m1@example.com"
    assert mail["X-Leadroute-Delivery"] == MAIL.key
    assert parsedate_to_datetime(mail["Date"]).timestamp() == 1_700_000_000
    assert mail["Message-ID"].endswith("@example.com>")
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.replace("\r\n", "\n") == MAIL.payload["text"]
    assert mail.get_body(("html",)).get_content().strip() == MAIL.payload["html"]  # type: ignore[union-attr]


def test_the_message_id_is_the_same_on_every_try() -> None:
    sender = EmailSender(email_model(25))
    assert sender.compose(MAIL)["Message-ID"] == sender.compose(MAIL)["Message-ID"]


def test_email_logs_in_with_credentials_from_the_environment() -> None:
    env = {"SMTP_USER": "bot", "SMTP_PASSWORD": "pw"}
    auth = {"authenticator": password_check("bot", "pw"), "auth_require_tls": False}
    with smtp_receiver(**auth) as (mailbox, port):
        credentials = {"username_env": "SMTP_USER", "password_env": "SMTP_PASSWORD"}
        sender = EmailSender(email_model(port, **credentials))
        sender.send(MAIL, env=env)
        wrong = failure(lambda: sender.send(MAIL, env={**env, "SMTP_PASSWORD": "nope"}))
    assert len(mailbox.envelopes) == 1
    assert not wrong.retryable and str(wrong).startswith("login failed: 535")


@pytest.mark.parametrize(
    ("reply", "retryable"),
    [("550 5.1.1 no such user", False), ("451 4.3.0 try again later", True)],
)
def test_refused_recipients_are_retried_only_when_the_refusal_is_temporary(
    reply: str, retryable: bool
) -> None:
    with smtp_receiver() as (mailbox, port):
        mailbox.rcpt_reply = reply
        error = failure(lambda: EmailSender(email_model(port)).send(MAIL, env={}))
    assert error.retryable is retryable
    assert str(error).startswith("recipients refused: r1@example.com: " + reply[:3])
    assert mailbox.envelopes == []


def test_starttls_is_required_when_configured_and_a_dead_server_is_retried() -> None:
    with smtp_receiver() as (_mailbox, port):
        error = failure(lambda: EmailSender(email_model(port, starttls=True)).send(MAIL, env={}))
    assert not error.retryable and "does not offer STARTTLS" in str(error)
    down = failure(lambda: EmailSender(email_model(free_port())).send(MAIL, env={}))
    assert down.retryable and "ConnectionRefusedError" in str(down)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a certificate")
def test_email_over_starttls_with_a_trusted_certificate(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    with smtp_receiver(tls_context=server, require_starttls=True) as (mailbox, port):
        EmailSender(email_model(port, starttls=True), ssl_context=client).send(MAIL, env={})
        untrusted = failure(
            lambda: EmailSender(email_model(port, starttls=True)).send(MAIL, env={})
        )
    assert len(mailbox.envelopes) == 1
    assert not untrusted.retryable and str(untrusted).startswith("TLS: ")
