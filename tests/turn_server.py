"""A real coturn (Debian's turnserver) for tests: loopback only, a shared secret, throwaway TLS.

coturn listens on 127.0.0.1: UDP and TCP on one free port, TLS on another, and relays to
loopback peers (`allow-loopback-peers`: in the tests both ends of the call are on 127.0.0.1).
A firewall is stood in for without touching the host's packet filter: `blocked_udp_port` is a
UDP socket that swallows everything (a firewall that drops UDP gives no answer), and
`closed_tcp_port` a port nothing listens on (a firewall that rejects).
"""

import datetime
import hashlib
import ipaddress
import shutil
import socket
import subprocess
import tempfile
import time
from base64 import b64encode
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.media.ice_config import IceServer
from server.services.call_ice import turn_credential

TURNSERVER = "/usr/bin/turnserver"
LOOPBACK = "127.0.0.1"
SECRET = "coturn-shared-secret-for-the-tests-0123456789"
REALM = "clinicdesk.test"


@dataclass(frozen=True)
class Certificate:
    ca: Path
    cert: Path
    key: Path
    #: base64 SHA-256 of the leaf's public key: Chromium's --ignore-certificate-errors-spki-list.
    spki_sha256: str


def make_certificate(folder: Path) -> Certificate:
    """A throwaway CA and a certificate for 127.0.0.1 signed by it (PEM files in `folder`)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Clinic Desk test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                       critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, LOOPBACK)]))
        .issuer_name(ca_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address(LOOPBACK)), x509.DNSName("localhost")]),
            critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = Certificate(folder / "ca.pem", folder / "turn.pem", folder / "turn.key", "")
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return Certificate(paths.ca, paths.cert, paths.key,
                       b64encode(hashlib.sha256(spki).digest()).decode())


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


@dataclass
class TurnServer:
    """A running coturn; `urls(...)` builds the URLs a call is offered."""

    port: int
    tls_port: int
    certificate: Certificate
    #: A UDP port that drops everything, and a TCP port that refuses: "blocked by a firewall".
    blocked_udp_port: int
    closed_tcp_port: int
    log: Path
    #: coturn's process id (the bench reads its CPU time).
    pid: int

    def urls(self, udp: bool = True, tcp: bool = True) -> list[str]:
        """UDP 3478, TCP 3478, TLS: the order of deployment; a blocked path points nowhere."""
        udp_port = self.port if udp else self.blocked_udp_port
        tcp_port = self.port if tcp else self.closed_tcp_port
        return [
            f"turn:{LOOPBACK}:{udp_port}?transport=udp",
            f"turn:{LOOPBACK}:{tcp_port}?transport=tcp",
            f"turns:{LOOPBACK}:{self.tls_port}?transport=tcp",
        ]

    def server(self, call_id: str = "test-call", valid_for: float = 3600, secret: str = SECRET,
               udp: bool = True, tcp: bool = True) -> IceServer:
        """The call's TURN entry with credentials minted as the Clinic Desk server mints them."""
        expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=valid_for)
        username, password = turn_credential(secret, call_id, expires)
        return IceServer(tuple(self.urls(udp, tcp)), username, password)


def _wait_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"turnserver exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"turnserver did not listen on {port}")


@contextmanager
def turn_server(relay_ip: str = LOOPBACK) -> Iterator[TurnServer]:
    """Start coturn on free loopback ports (skips the test when coturn is not installed);
    relayed media leave from `relay_ip` (inside a test's namespace: the veth's address, where
    Janus listens)."""
    if not Path(TURNSERVER).exists():
        pytest.skip("coturn is not installed (apt-get install coturn)")
    folder = Path(tempfile.mkdtemp(prefix="clinicdesk-turn-"))
    certificate = make_certificate(folder)
    port = _free_port(socket.SOCK_STREAM)
    tls_port = _free_port(socket.SOCK_STREAM)
    blackhole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blackhole.bind((LOOPBACK, 0))
    log = folder / "turnserver.log"
    config = folder / "turnserver.conf"
    config.write_text("\n".join([
        f"listening-ip={LOOPBACK}", f"relay-ip={relay_ip}",
        f"listening-port={port}", f"tls-listening-port={tls_port}",
        # One port each: coturn's "alternative" ports (+1) are not free by construction.
        "alt-listening-port=0", "alt-tls-listening-port=0",
        "use-auth-secret", f"static-auth-secret={SECRET}", f"realm={REALM}",
        f"cert={certificate.cert}", f"pkey={certificate.key}", "no-dtls",
        "allow-loopback-peers", "no-multicast-peers", "fingerprint", "no-cli",
        "no-software-attribute", f"userdb={folder / 'turndb'}", f"pidfile={folder / 'pid'}",
        f"log-file={log}", "simple-log", "verbose",
    ]) + "\n")
    process = subprocess.Popen(
        [TURNSERVER, "-c", str(config)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    try:
        _wait_listening(port, process, log)
        _wait_listening(tls_port, process, log)
        yield TurnServer(port, tls_port, certificate, int(blackhole.getsockname()[1]),
                         _free_port(socket.SOCK_STREAM), log, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        blackhole.close()
        shutil.rmtree(folder, ignore_errors=True)
