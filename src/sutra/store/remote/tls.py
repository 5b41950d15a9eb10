"""TLS for the storage server: contexts from PEM files (stdlib `ssl`) and a self-signed set for trying it.

`write_self_signed` makes a small private CA and a server certificate it signs, rather than one certificate
that is its own CA: OpenSSL's strict verification (the default in newer Pythons) refuses a leaf that is also
a CA, and a separate CA file is what clients are configured with anyway (`storage_ca`). The CA's key is not
kept, so nothing else can be signed with it; run the command again to make a new set.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sutra.errors import ConfigError, InputError

CA_NAME, CERT_NAME, KEY_NAME = "ca.pem", "server.pem", "server.key"


@dataclass(frozen=True, slots=True)
class TlsFiles:
    ca: Path  # give this to clients (storage_ca)
    cert: Path  # and these two to `sutra storage serve --cert --key`
    key: Path


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load the TLS certificate {cert} with key {key} ({exc})") from None
    return context


def client_context(ca: Path | None) -> ssl.SSLContext:
    """Verifies the server against `ca` (or the system's trusted CAs when None), host name included."""
    try:
        context = ssl.create_default_context(cafile=None if ca is None else os.fspath(ca))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load the storage CA file {ca} ({exc}); check storage_ca") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def write_self_signed(
    out_dir: Path, hostnames: tuple[str, ...] = ("localhost", "127.0.0.1"), days: int = 365
) -> TlsFiles:
    """A CA and a server certificate for `hostnames` (DNS names or IP addresses) in `out_dir`."""
    if not hostnames:
        raise InputError("a certificate needs at least one host name or IP address")
    files = TlsFiles(out_dir / CA_NAME, out_dir / CERT_NAME, out_dir / KEY_NAME)
    existing = [p.name for p in (files.ca, files.cert, files.key) if p.exists()]
    if existing:
        raise InputError(f"{out_dir} already holds {', '.join(existing)}; choose an empty folder")
    now = dt.datetime.now(dt.UTC)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Sutra storage CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        _builder(ca_name, ca_name, ca_key.public_key(), now, days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server = (
        _builder(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])]),
            ca_name,
            server_key.public_key(),
            now,
            days,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([_general_name(h) for h in hostnames]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    _write(files.ca, ca.public_bytes(serialization.Encoding.PEM), 0o644)
    _write(files.cert, server.public_bytes(serialization.Encoding.PEM), 0o644)
    key_pem = server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write(files.key, key_pem, 0o600)
    return files


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePublicKey, now: dt.datetime, days: int
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))  # tolerate a little clock skew
        .not_valid_after(now + dt.timedelta(days=days))
    )


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _write(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
