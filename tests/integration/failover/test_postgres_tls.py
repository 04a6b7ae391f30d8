"""PostgreSQL with TLS only and `sslmode=verify-full`: a private cluster (Debian's
pg_createcluster, never 5432's `main`) that refuses plain connections, with a CA and a
server certificate made by openssl. haodian connects, migrates and verifies the ledger
through it; a wrong CA and a host name the certificate does not name are refused."""

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from harness import settings_env
from pg_pair import Cluster, free_port

from workers import db
from workers.settings import Settings

TLS_ONLY_HBA = """\
local all all trust
hostssl all all 127.0.0.1/32 trust
hostnossl all all 127.0.0.1/32 reject
"""


def openssl(cwd: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certificates(directory: Path) -> None:
    """A CA, a second (wrong) CA, and a server certificate for DNS:localhost only."""
    for ca in ("ca", "wrong-ca"):
        openssl(directory, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", f"/CN=haodian test {ca}", "-keyout", f"{ca}.key", "-out", f"{ca}.pem")
    openssl(directory, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
            "-keyout", "server.key", "-out", "server.csr")
    (directory / "ext.cnf").write_text("subjectAltName = DNS:localhost\n"
                                       "extendedKeyUsage = serverAuth\n")
    openssl(directory, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey",
            "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out",
            "server.pem")


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    certs = tmp_path_factory.mktemp("pg-tls")
    make_certificates(certs)
    cluster = Cluster(f"hdf{os.getpid()}tlsa", free_port())  # dropped as an orphan if we die
    try:
        cluster.create()
        for name in ("server.pem", "server.key"):
            target = cluster.data / name
            target.write_bytes((certs / name).read_bytes())
            subprocess.run(["chown", "postgres:postgres", str(target)], check=True)
            target.chmod(0o600)
        with (cluster.conf / "conf.d" / "haodian.conf").open("a") as conf:
            conf.write(f"ssl = on\nssl_cert_file = '{cluster.data}/server.pem'\n"
                       f"ssl_key_file = '{cluster.data}/server.key'\n")
        (cluster.conf / "pg_hba.conf").write_text(TLS_ONLY_HBA)
        cluster.ctl("start")
        cluster.wait_ready()
        yield cluster.port, certs
    finally:
        cluster.drop()


def url(port: int, ca: Path, host: str = "localhost", mode: str = "verify-full") -> str:
    return (f"postgresql://postgres@{host}:{port}/postgres?sslmode={mode}"
            f"&sslrootcert={ca}")


async def test_verify_full_connects_encrypted(tls_cluster: tuple[int, Path]) -> None:
    port, certs = tls_cluster
    conn = await db.connect(url(port, certs / "ca.pem"))
    try:
        assert await conn.fetchval(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") is True
    finally:
        await conn.close()


async def test_a_wrong_ca_a_wrong_host_name_and_plain_text_are_refused(
        tls_cluster: tuple[int, Path]) -> None:
    port, certs = tls_cluster
    with pytest.raises(db.DatabaseTLSRefused, match="not trusted: unable to get local issuer"):
        await db.connect(url(port, certs / "wrong-ca.pem"))
    # The certificate names localhost only: verify-full refuses 127.0.0.1 ...
    with pytest.raises(db.DatabaseTLSRefused, match=r"(?i)mismatch"):
        await db.connect(url(port, certs / "ca.pem", host="127.0.0.1"))
    # ... which verify-ca (the chain only) accepts: the difference verify-full makes.
    conn = await db.connect(url(port, certs / "ca.pem", host="127.0.0.1", mode="verify-ca"))
    await conn.close()
    with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError, match="no encryption"):
        await db.connect(f"postgresql://postgres@localhost:{port}/postgres?sslmode=disable")


def haodian(settings: Settings, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = settings_env(settings)
    env["HAODIAN_DATABASE_URL"] = database_url
    return subprocess.run([str(Path(sys.executable).parent / "haodian"), *args], env=env,
                          capture_output=True, text=True, timeout=180)


async def test_haodian_migrates_and_verifies_the_ledger_over_verify_full(
        tls_cluster: tuple[int, Path], settings: Settings) -> None:
    port, certs = tls_cluster
    good = url(port, certs / "ca.pem")
    migrated = await asyncio.to_thread(haodian, settings, good, "migrate")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    verified = await asyncio.to_thread(haodian, settings, good, "ledger", "verify", "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    refused = await asyncio.to_thread(haodian, settings, url(port, certs / "wrong-ca.pem"),
                                      "ledger", "verify")
    # One clear line naming the setting to fix; no traceback.
    assert refused.returncode == 2, refused.stderr
    assert "PostgreSQL TLS certificate of localhost" in refused.stderr
    assert "sslrootcert" in refused.stderr and "Traceback" not in refused.stderr
