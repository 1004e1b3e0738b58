"""The SMTP relay client against a real SMTP server on loopback: replies per recipient, TLS modes, AUTH."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gateway.settings import Settings
from protocols.smtp import Relay, RelayReply, RelayUnavailable
from tests.testing import free_port, smtp_sink

MESSAGE = b"From: alice@example.org\r\nTo: bob@example.net\r\nSubject: Hi\r\n\r\nHello.\r\n"


def relay(address: str, tls: str = "off", **settings: Any) -> Relay:
    found = Relay.from_settings(Settings(smtp_relay=address, smtp_tls=tls, mail_domain="gw.example.org", **settings))
    assert found is not None
    return found


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "relay.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture
def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def trusted(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the test certificate part of the default trust store the relay uses."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))


async def test_replies_are_kept_per_recipient_and_refused_ones_get_no_copy() -> None:
    with smtp_sink(refuse={"nobody@example.net"}) as sink:
        result = await relay(sink.address).send("alice@example.org", ["bob@example.net", "nobody@example.net"], MESSAGE)
    assert result.replies == {
        "bob@example.net": RelayReply(250, "2.0.0 Ok: queued as 12345"),
        "nobody@example.net": RelayReply(550, "5.1.1 No such user here"),
    }
    assert result.accepted == ["bob@example.net"]
    [received] = sink.received
    assert (received.mail_from, received.rcpt_to, received.data) == ("alice@example.org", ["bob@example.net"], MESSAGE)
    assert received.helo == "gw.example.org" and not received.tls


async def test_no_data_when_every_recipient_is_refused() -> None:
    with smtp_sink(refuse={"a@example.net", "b@example.net"}) as sink:
        result = await relay(sink.address).send("alice@example.org", ["a@example.net", "b@example.net"], MESSAGE)
    assert result.accepted == []
    assert {reply.code for reply in result.replies.values()} == {550}
    assert sink.received == []


async def test_null_reverse_path() -> None:
    with smtp_sink() as sink:
        await relay(sink.address).send("", ["bob@example.net"], MESSAGE)
    assert sink.received[0].mail_from == "<>"  # aiosmtpd keeps the null path as written


async def test_refused_sender_is_unavailable_with_the_reply() -> None:
    with smtp_sink() as sink:
        sink.refuse_senders.add("alice@example.org")
        with pytest.raises(RelayUnavailable) as caught:
            await relay(sink.address).send("alice@example.org", ["bob@example.net"], MESSAGE)
    assert caught.value.stage == "mail"
    assert caught.value.reply == RelayReply(553, "5.7.1 Sender not allowed")


async def test_closed_port_is_unavailable() -> None:
    with pytest.raises(RelayUnavailable) as caught:
        await relay(f"127.0.0.1:{free_port()}").send("alice@example.org", ["bob@example.net"], MESSAGE)
    assert caught.value.stage == "connect" and caught.value.reply is None


def test_multi_line_reply_is_one_line() -> None:
    reply = RelayReply(550, "5.7.1 Our system has detected that this message is\n5.7.1 likely spam, sorry.")
    assert reply.text == "550 5.7.1 Our system has detected that this message is likely spam, sorry."
    assert RelayReply(250, "OK").text == "250 OK"


# --- TLS ---------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("trusted")
@pytest.mark.parametrize("mode", ["auto", "starttls"])
async def test_starttls_when_offered(mode: str, server_tls: ssl.SSLContext) -> None:
    with smtp_sink(tls_context=server_tls, require_starttls=True) as sink:
        await relay(sink.address, mode).send("alice@example.org", ["bob@example.net"], MESSAGE)
    assert sink.received[0].tls


async def test_auto_goes_plain_when_starttls_is_not_offered() -> None:
    with smtp_sink() as sink:
        await relay(sink.address, "auto").send("alice@example.org", ["bob@example.net"], MESSAGE)
    assert not sink.received[0].tls


async def test_required_starttls_refuses_a_relay_without_it() -> None:
    with smtp_sink() as sink, pytest.raises(RelayUnavailable) as caught:
        await relay(sink.address, "starttls").send("alice@example.org", ["bob@example.net"], MESSAGE)
    assert caught.value.stage == "connect" and sink.received == []


async def test_untrusted_certificate_is_refused(server_tls: ssl.SSLContext) -> None:
    with smtp_sink(tls_context=server_tls) as sink, pytest.raises(RelayUnavailable):
        await relay(sink.address, "auto").send("alice@example.org", ["bob@example.net"], MESSAGE)
    assert sink.received == []


async def test_off_never_upgrades(server_tls: ssl.SSLContext) -> None:
    with smtp_sink(tls_context=server_tls, require_starttls=True) as sink, pytest.raises(RelayUnavailable) as caught:
        await relay(sink.address, "off").send("alice@example.org", ["bob@example.net"], MESSAGE)
    assert caught.value.stage == "mail" and caught.value.reply is not None and caught.value.reply.code == 530


@pytest.mark.usefixtures("trusted")
async def test_implicit_tls(server_tls: ssl.SSLContext) -> None:
    with smtp_sink(ssl_context=server_tls) as sink:
        await relay(sink.address, "implicit").send("alice@example.org", ["bob@example.net"], MESSAGE)
    assert sink.received[0].tls


# --- AUTH --------------------------------------------------------------------------------------------------


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data == (b"gateway", b"s3cret")
    return AuthResult(success=ok, handled=False)


@pytest.mark.usefixtures("trusted")
async def test_auth_over_starttls(server_tls: ssl.SSLContext) -> None:
    options: dict[str, Any] = {"tls_context": server_tls, "authenticator": authenticator, "auth_required": True}
    with smtp_sink(**options) as sink:
        await relay(sink.address, "starttls", smtp_username="gateway", smtp_password="s3cret").send(
            "alice@example.org", ["bob@example.net"], MESSAGE
        )
        with pytest.raises(RelayUnavailable) as caught:
            await relay(sink.address, "starttls", smtp_username="gateway", smtp_password="wrong").send(
                "alice@example.org", ["bob@example.net"], MESSAGE
            )
    assert len(sink.received) == 1
    assert caught.value.stage == "connect" and caught.value.reply is not None and caught.value.reply.code == 535


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_without_credentials_an_auth_only_relay_refuses_the_sender() -> None:
    options: dict[str, Any] = {"authenticator": authenticator, "auth_required": True, "auth_require_tls": False}
    with smtp_sink(**options) as sink, pytest.raises(RelayUnavailable) as caught:
        await relay(sink.address).send("alice@example.org", ["bob@example.net"], MESSAGE)
    assert caught.value.stage == "mail" and caught.value.reply is not None and caught.value.reply.code == 530
