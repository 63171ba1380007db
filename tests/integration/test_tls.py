"""TLS for real: certificates made in the test (trustme, cryptography), served from a loopback server.

A certificate the run cannot trust fails the request with the reason OpenSSL
gives; ``verify: CA.pem``, ``--ca-cert`` and ``--insecure`` make it pass; a server
that wants a client certificate gets one from ``client_cert`` or ``--client-cert``.
"""

from __future__ import annotations

import ipaddress
import ssl
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from fault_servers import Connection, respond, serve


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    """A certificate authority nobody trusts unless told to."""
    return trustme.CA()


def server_context(cert: trustme.LeafCert, client_ca: trustme.CA | None = None) -> ssl.SSLContext:
    """A server-side TLS context; with ``client_ca`` it demands a client certificate issued by it."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    if client_ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        client_ca.configure_trust(context)
    return context


def self_signed(folder: Path) -> tuple[ssl.SSLContext, Path]:
    """A truly self-signed certificate for 127.0.0.1: a server context, and the certificate's PEM file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "runner test server")])
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file = folder / "self-signed.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file = folder / "self-signed.key"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file


def collection(url: str, tls: str = "") -> str:
    """One request to ``url`` expecting 200, with collection-level TLS keys."""
    return f"name: tls\n{tls}requests:\n  - name: secure\n    url: {url}/\n    expect:\n      status: 200\n"


def outcome_line(output: str) -> str:
    """The console line of the request."""
    return next(line for line in output.splitlines() if " secure " in line or line.rstrip().endswith(" secure"))


def test_a_certificate_from_an_unknown_authority_fails(run_cli: Any, write: Any, ca: trustme.CA) -> None:
    with serve(respond(body=b"ok"), tls=server_context(ca.issue_cert("127.0.0.1"))) as server:
        result = run_cli("run", str(write("c.yaml", collection(server.url))))
    assert result.exit_code == 1
    assert "TLS certificate verify failed: unable to get local issuer certificate" in outcome_line(result.stdout)


def test_a_self_signed_certificate_fails_unless_its_file_is_the_ca_bundle(run_cli: Any, write: Any, project: Path) -> None:
    context, cert_file = self_signed(project)
    with serve(respond(body=b"ok"), tls=context) as server:
        refused = run_cli("run", str(write("c.yaml", collection(server.url))))
        trusted = run_cli("run", str(write("d.yaml", collection(server.url, f"verify: {cert_file.name}\n"))))
    assert refused.exit_code == 1
    assert "TLS certificate verify failed: self-signed certificate" in outcome_line(refused.stdout)
    assert trusted.exit_code == 0, trusted.output


def test_a_ca_bundle_path_in_the_collection_is_trusted(run_cli: Any, write: Any, project: Path, ca: trustme.CA) -> None:
    ca.cert_pem.write_to_path(str(project / "ca.pem"))
    with serve(respond(body=b"ok"), tls=server_context(ca.issue_cert("127.0.0.1"))) as server:
        result = run_cli("run", str(write("c.yaml", collection(server.url, "verify: ca.pem\n"))))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("identities", "host", "reason"),
    [
        pytest.param({"identities": ("127.0.0.1",), "not_before": datetime(2000, 1, 1), "not_after": datetime(2001, 1, 1)}, "127.0.0.1", "certificate has expired", id="expired"),
        pytest.param({"identities": ("example.org",)}, "localhost", "Hostname mismatch, certificate is not valid for 'localhost'", id="wrong-host"),
        pytest.param({"identities": ("example.org",)}, "127.0.0.1", "IP address mismatch, certificate is not valid for '127.0.0.1'", id="wrong-ip"),
    ],
)
def test_a_trusted_authority_does_not_excuse_a_bad_certificate(run_cli: Any, write: Any, project: Path, ca: trustme.CA, identities: dict[str, Any], host: str, reason: str) -> None:
    ca.cert_pem.write_to_path(str(project / "ca.pem"))
    leaf = ca.issue_cert(*identities["identities"], not_before=identities.get("not_before"), not_after=identities.get("not_after"))
    with serve(respond(body=b"ok"), tls=server_context(leaf)) as server:
        url = server.url.replace("127.0.0.1", host)
        result = run_cli("run", str(write("c.yaml", collection(url, "verify: ca.pem\n"))))
        insecure = run_cli("run", str(write("d.yaml", collection(url, "verify: ca.pem\n"))), "--insecure")
        not_verified = run_cli("run", str(write("e.yaml", collection(url, "verify: false\n"))))
    assert result.exit_code == 1
    assert f"TLS certificate verify failed: {reason}" in outcome_line(result.stdout)
    assert insecure.exit_code == 0, insecure.output
    assert not_verified.exit_code == 0, not_verified.output


def test_ca_cert_option_overrides_the_collection(run_cli: Any, write: Any, project: Path, ca: trustme.CA) -> None:
    ca.cert_pem.write_to_path(str(project / "ca.pem"))
    other = trustme.CA()
    other.cert_pem.write_to_path(str(project / "other-ca.pem"))
    with serve(respond(body=b"ok"), tls=server_context(ca.issue_cert("127.0.0.1"))) as server:
        path = write("c.yaml", collection(server.url, "verify: other-ca.pem\n"))
        wrong_ca = run_cli("run", str(path))
        overridden = run_cli("run", str(path), "--ca-cert", str(project / "ca.pem"))
    assert wrong_ca.exit_code == 1
    assert overridden.exit_code == 0, overridden.output


def test_a_server_that_requires_a_client_certificate(run_cli: Any, write: Any, project: Path, ca: trustme.CA) -> None:
    ca.cert_pem.write_to_path(str(project / "ca.pem"))
    client = ca.issue_cert("client.example.org")
    client.private_key_and_cert_chain_pem.write_to_path(str(project / "client.pem"))
    client.cert_chain_pems[0].write_to_path(str(project / "client-cert.pem"))
    client.private_key_pem.write_to_path(str(project / "client-key.pem"))
    with serve(respond(body=b"ok"), tls=server_context(ca.issue_cert("127.0.0.1"), client_ca=ca)) as server:
        without = run_cli("run", str(write("a.yaml", collection(server.url, "verify: ca.pem\n"))))
        one_file = run_cli("run", str(write("b.yaml", collection(server.url, "verify: ca.pem\nclient_cert: client.pem\n"))))
        two_files = run_cli("run", str(write("c.yaml", collection(server.url, "verify: ca.pem\nclient_cert: {cert: client-cert.pem, key: client-key.pem}\n"))))
        option = run_cli("run", str(write("d.yaml", collection(server.url, "verify: ca.pem\n"))), "--client-cert", str(project / "client.pem"))
    assert without.exit_code == 1
    assert "TLS error: the server requires a client certificate" in outcome_line(without.stdout)
    for result in (one_file, two_files, option):
        assert result.exit_code == 0, result.output


def _plain_http(conn: Connection) -> None:
    conn.send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    conn.read_request()


def test_https_to_a_plain_http_server_says_so(run_cli: Any, write: Any) -> None:
    with serve(_plain_http) as server:
        result = run_cli("run", str(write("c.yaml", collection(server.url.replace("http://", "https://")))))
    assert result.exit_code == 1
    assert "TLS error: the server did not answer with TLS (is it plain http?)" in outcome_line(result.stdout)


def test_the_tls_options_must_name_existing_files(run_cli: Any, write: Any) -> None:
    path = write("c.yaml", collection("https://127.0.0.1:9"))
    for option in ("--ca-cert", "--client-cert"):
        result = run_cli("run", str(path), option, "no-such.pem")
        assert result.exit_code == 2
        assert "no-such.pem" in result.stderr and "does not exist" in result.stderr

