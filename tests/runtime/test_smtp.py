"""The SMTP transport against a real aiosmtpd process: STARTTLS, login, refusals, bad URLs."""

from __future__ import annotations

import shutil
import subprocess
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.runtime.smtp import MailDeferred, SmtpMailer
from bot.settings import load_settings, parse_smtp_url
from tests.support.mailserver import smtp_server


def message(to: str = "kim@example.com") -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "shop@example.com", to, "Grüße"
    msg.set_content("Hallo")
    return msg


def self_signed(tmp: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is missing (Debian: apt-get install openssl)")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


def test_starttls_and_login(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = self_signed(tmp_path)
    # The client trusts the test's certificate the standard OpenSSL way.
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with smtp_server(tmp_path / "mail", "--tls", str(cert), str(key),
                     "--auth", "desk:s3cr%t@x") as server:
        url = f"smtp://desk:s3cr%25t%40x@127.0.0.1:{server.port}?starttls=require&timeout=10"
        SmtpMailer(parse_smtp_url(url)).send(message())
        [got] = server.wait_for(1)
        assert got["Subject"] == "Grüße"
        wrong = f"smtp://desk:nope@127.0.0.1:{server.port}?timeout=10"
        with pytest.raises(MailDeferred, match="535"):  # a wrong password: fix and retry
            SmtpMailer(parse_smtp_url(wrong)).send(message())


def test_starttls_required_but_not_offered(tmp_path: Path) -> None:
    with smtp_server(tmp_path / "mail") as server:
        url = f"smtp://127.0.0.1:{server.port}?starttls=require&timeout=10"
        with pytest.raises(MailDeferred, match="does not offer STARTTLS"):
            SmtpMailer(parse_smtp_url(url)).send(message())
        assert server.received() == []


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://mail.example.com", "use smtp://"),
        ("smtp://", "names no host"),
        ("smtp://mail.example.com:99999", "not a URL"),
        ("smtp://mail.example.com?tls=yes", "unknown option"),
        ("smtp://mail.example.com?starttls=maybe", "starttls must be"),
        ("smtp://mail.example.com/path", "no path"),
    ],
)
def test_bad_smtp_urls_stop_the_start(url: str, problem: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(smtp_url=url, mail_from="shop@example.com")
    assert "FAQBOT_SMTP_URL" in str(caught.value) and problem in str(caught.value)


def test_a_password_in_the_url_is_never_echoed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(smtp_url="smtp://u:hunter2@mail.example.com?bad=1", mail_from="a@b.c")
    assert "hunter2" not in str(caught.value)


def test_mail_needs_a_sender_and_defaults_are_sane() -> None:
    with pytest.raises(ConfigError, match="FAQBOT_MAIL_FROM"):
        load_settings(smtp_url="smtps://mail.example.com")
    target = load_settings(smtp_url="smtps://u%40x:p%3Aw@mail.example.com",
                           mail_from="Shop <shop@example.com>").smtp
    assert target is not None
    assert (target.port, target.implicit_tls, target.username, target.password) == (
        465, True, "u@x", "p:w")
    assert load_settings().smtp is None  # no URL: no e-mail, and nothing else needed
