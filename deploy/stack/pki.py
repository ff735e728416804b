"""A small private PKI and secret store for the local stack (stdlib + the ``openssl`` command).

The local stack runs Kafka and Elasticsearch with TLS; their certificates come from a certificate authority
created once per stack in ``STATE/pki``. Secrets (passwords of the Kafka and Elasticsearch users) are
generated once and kept in ``STATE/secrets``, readable by root only. Everything is idempotent: a second
call returns the existing files, so clients configured from them keep working across restarts.

Usable on its own for a real deployment's test bed:
``python deploy/stack/pki.py --dir DIR server NAME --host 10.0.0.5 --host kafka1.example``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

CA_DAYS = 3650
CERT_DAYS = 825  # the longest validity browsers and most TLS stacks still accept for a leaf
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class ServerCertificate:
    """PEM files of one server identity: ``key`` is unencrypted PKCS#8 (mode 0600), ``chain`` is cert + CA."""

    cert: Path
    key: Path
    chain: Path
    ca: Path


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _private(path: Path) -> None:
    path.chmod(0o600)


def ensure_ca(directory: Path, name: str = "Canh Gac local CA") -> Path:
    """Create (once) the CA's key and self-signed certificate; return the certificate's path."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = directory / "ca.crt", directory / "ca.key"
    if ca_cert.exists() and ca_key.exists():
        return ca_cert
    _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(ca_key))
    _private(ca_key)
    _openssl(
        "req", "-x509", "-new", "-key", str(ca_key), "-sha256", "-days", str(CA_DAYS),
        "-subj", f"/O=Canh Gac/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-out", str(ca_cert),
    )  # fmt: skip
    ca_cert.chmod(0o644)
    return ca_cert


def _subject_alt_names(hosts: tuple[str, ...]) -> str:
    entries = []
    for host in hosts:
        is_ip = host.replace(".", "").isdigit() or ":" in host
        entries.append(f"IP:{host}" if is_ip else f"DNS:{host}")
    return ",".join(entries)


def ensure_server_cert(
    directory: Path, name: str, hosts: tuple[str, ...] = LOOPBACK_HOSTS
) -> ServerCertificate:
    """Create (once) a key and a CA-signed certificate for server ``name`` valid for ``hosts``."""
    ca = ensure_ca(directory)
    cert, key, chain = directory / f"{name}.crt", directory / f"{name}.key", directory / f"{name}-chain.crt"
    if not (cert.exists() and key.exists() and chain.exists()):
        _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(key))
        _private(key)
        with tempfile.TemporaryDirectory() as scratch:
            csr = Path(scratch) / "server.csr"
            extensions = Path(scratch) / "server.ext"
            extensions.write_text(
                "basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth,clientAuth\n"
                f"subjectAltName={_subject_alt_names(hosts)}\n"
            )
            _openssl("req", "-new", "-key", str(key), "-subj", f"/O=Canh Gac/CN={name}", "-out", str(csr))
            _openssl(
                "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(directory / "ca.key"),
                "-CAcreateserial", "-sha256", "-days", str(CERT_DAYS), "-extfile", str(extensions),
                "-out", str(cert),
            )  # fmt: skip
        cert.chmod(0o644)
        chain.write_text(cert.read_text() + ca.read_text())
        chain.chmod(0o644)
    return ServerCertificate(cert=cert, key=key, chain=chain, ca=ca)


def ensure_pkcs12(certificate: ServerCertificate, password: str) -> Path:
    """A PKCS#12 keystore of ``certificate`` (for Java servers that want one), protected by ``password``."""
    store = certificate.cert.with_suffix(".p12")
    if not store.exists():
        _openssl(
            "pkcs12", "-export", "-in", str(certificate.cert), "-inkey", str(certificate.key),
            "-certfile", str(certificate.ca), "-name", certificate.cert.stem,
            "-out", str(store), "-passout", f"pass:{password}",
        )  # fmt: skip
        _private(store)
    return store


def ensure_secret(directory: Path, name: str, length: int = 24) -> str:
    """A random secret generated once and kept in ``directory/name`` (mode 0600)."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    path = directory / name
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_urlsafe(length))
    return path.read_text().strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dir", type=Path, required=True, help="directory of the CA and certificates")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("ca", help="create the CA (once) and print its certificate's path")
    server = sub.add_parser("server", help="create a server certificate (once) and print its paths")
    server.add_argument("name")
    server.add_argument("--host", action="append", help="DNS name or IP (repeat); default loopback")
    args = parser.parse_args(argv)
    if args.command == "ca":
        print(ensure_ca(args.dir))
        return 0
    made = ensure_server_cert(args.dir, args.name, tuple(args.host) if args.host else LOOPBACK_HOSTS)
    print(f"cert={made.cert}\nkey={made.key}\nchain={made.chain}\nca={made.ca}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
