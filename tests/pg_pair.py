"""A private PostgreSQL primary and streaming standby, made with Debian's cluster tools.

    with PgPair("hdp1234") as pair:          two clusters on free ports, never 5432's `main`
        pair.url("db")                       postgresql://postgres@127.0.0.1:<p>,127.0.0.1:<s>/db
                                             ?target_session_attrs=read-write
        pair.set_synchronous(True)           synchronous_standby_names = '*' on the primary
        pair.kill_primary()                  SIGKILL the postmaster, then what it leaves behind
        pair.promote()                       the standby becomes the primary
        pair.stop_standby() / start_standby()

Both clusters are dropped on leaving the block, on a failing test too, and at interpreter
exit should the block never be left (atexit). The primary is `pg_createcluster <ver>
<name>a -p <port>` with replication allowed from 127.0.0.1 only (trust); the standby is a
`pg_createcluster <name>b` whose data directory `pg_basebackup -R` refills from the
primary, through a physical replication slot so it can catch up after being down.
`synchronous_standby_names` lives in the primary's conf.d, not in postgresql.auto.conf:
a base backup does not copy it, so the promoted standby does not wait for a standby of
its own (docs/operations.md, Failover).

`python tests/pg_pair.py NAME` starts a pair, prints its URL, and drops it on Ctrl-C or
SIGTERM (for `haodian bench` against the pair).
"""

import atexit
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

SLOT = "haodian_standby"
SETTINGS = """\
listen_addresses = '127.0.0.1'
wal_level = replica
max_wal_senders = 5
max_replication_slots = 5
hot_standby = on
wal_sender_timeout = 5s
wal_receiver_status_interval = 1s
shared_buffers = 64MB
max_connections = 60
log_min_messages = warning
"""
HBA = """\
local all all trust
local replication all trust
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
"""


def version() -> str:
    return sorted((p.name for p in Path("/etc/postgresql").iterdir()), key=float)[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(*args: str, timeout: float = 120) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} -> {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def _as_postgres(*args: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


class Cluster:
    """One Debian cluster of the pair."""

    def __init__(self, name: str, port: int) -> None:
        self.ver = version()
        self.name = name
        self.port = port
        self.conf = Path(f"/etc/postgresql/{self.ver}/{name}")
        self.data = Path(f"/var/lib/postgresql/{self.ver}/{name}")

    def create(self) -> None:
        _run("pg_createcluster", self.ver, self.name, "-p", str(self.port))
        (self.conf / "conf.d" / "haodian.conf").write_text(SETTINGS)
        (self.conf / "pg_hba.conf").write_text(HBA)

    def ctl(self, action: str, *extra: str) -> None:
        _run("pg_ctlcluster", "--skip-systemctl-redirect", self.ver, self.name, action,
             *extra)

    def psql(self, sql: str) -> str:
        return _run(*_as_postgres("psql", "-X", "-qAt", "-h", "127.0.0.1", "-p",
                                  str(self.port), "-d", "postgres", "-c", sql)).strip()

    def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.port)]
                             ).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError(f"cluster {self.name} did not accept connections")
            time.sleep(0.1)

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def processes(self) -> list[int]:
        """The postmaster and every process it started (still) running."""
        pm = self.postmaster_pid()
        if pm is None:
            return []
        found = [pm] if Path(f"/proc/{pm}").exists() else []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pm:
                    found.append(int(stat.parent.name))
        return found

    def kill(self) -> None:
        """SIGKILL the postmaster; whatever it leaves behind after 5 s gets SIGKILL too."""
        pm = self.postmaster_pid()
        children = self.processes()
        if pm is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pm, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists()
                                                  for p in children):
            time.sleep(0.05)
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def drop(self) -> None:
        if not self.conf.exists() and not self.data.exists():
            return
        try:
            _run("pg_dropcluster", "--stop", self.ver, self.name, timeout=60)
        except (RuntimeError, subprocess.TimeoutExpired):
            self.kill()
            with contextlib.suppress(OSError):
                (self.data / "postmaster.pid").unlink()
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                _run("pg_dropcluster", self.ver, self.name, timeout=60)
        # pg_dropcluster leaves the configuration files it did not write (conf.d/*.conf)
        for path in (self.conf, self.data):
            if path.exists():
                subprocess.run(["rm", "-rf", str(path)], check=False)


def drop_orphans() -> None:
    """Pairs left by test runs killed outright (named hdf<pid>a/b, that pid gone)."""
    for conf in Path(f"/etc/postgresql/{version()}").glob("hdf*"):
        found = re.fullmatch(r"hdf(\d+)[a-z]*[ab]", conf.name)
        if found and not Path(f"/proc/{found[1]}").exists():
            Cluster(conf.name, 0).drop()


class PgPair:
    def __init__(self, name: str) -> None:
        if not name.isidentifier() or name == "main":
            raise ValueError(f"not a cluster name for a test pair: {name!r}")
        self.primary = Cluster(f"{name}a", free_port())
        self.standby = Cluster(f"{name}b", free_port())
        self._dropped = False

    # ---- life cycle ---------------------------------------------------------------------
    def __enter__(self) -> "PgPair":
        atexit.register(self.drop)
        try:
            self.start()
        except BaseException:
            self.drop()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.drop()

    def start(self) -> None:
        drop_orphans()
        self.primary.create()
        self.primary.ctl("start")
        self.primary.wait_ready()
        self.standby.create()
        # Emptied, not removed: the directory is the postgres account's, its parent is not.
        subprocess.run(["find", str(self.standby.data), "-mindepth", "1", "-delete"],
                       check=True)
        _run(*_as_postgres("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary.port),
                           "-U", "postgres", "-D", str(self.standby.data), "-R", "-X",
                           "stream", "-C", "-S", SLOT, "-c", "fast"), timeout=300)
        self.start_standby()
        self.wait_streaming()

    def drop(self) -> None:
        if self._dropped:
            return
        self._dropped = True
        for cluster in (self.standby, self.primary):
            cluster.drop()

    # ---- what tests do to it ------------------------------------------------------------
    def url(self, database: str) -> str:
        return (f"postgresql://postgres@127.0.0.1:{self.primary.port},"
                f"127.0.0.1:{self.standby.port}/{database}?target_session_attrs=read-write")

    def set_synchronous(self, on: bool, cluster: Cluster | None = None) -> None:
        """synchronous_standby_names = '*' (every commit waits for a standby's flush) or ''."""
        target = cluster or self.primary
        value = "'*'" if on else "''"
        (target.conf / "conf.d" / "sync.conf").write_text(
            f"synchronous_standby_names = {value}\n")
        target.psql("SELECT pg_reload_conf()")
        deadline = time.monotonic() + 10
        while target.psql("SHOW synchronous_standby_names") != ("*" if on else ""):
            if time.monotonic() > deadline:
                raise RuntimeError("synchronous_standby_names not reloaded")
            time.sleep(0.05)

    def wait_streaming(self, timeout_s: float = 60, sync: bool = False) -> None:
        """The standby streams from the primary (and is its sync standby, with `sync`)."""
        want = "sync" if sync else "%"
        deadline = time.monotonic() + timeout_s
        while self.primary.psql("SELECT count(*) FROM pg_stat_replication WHERE state = "
                                f"'streaming' AND sync_state LIKE '{want}'") != "1":
            if time.monotonic() > deadline:
                raise RuntimeError("the standby does not stream")
            time.sleep(0.1)

    def kill_primary(self) -> None:
        self.primary.kill()

    def walsender_pids(self) -> list[int]:
        return [int(p) for p in self.primary.psql(
            "SELECT pid FROM pg_stat_replication").split() if p]

    def promote(self) -> None:
        self.standby.ctl("promote")
        deadline = time.monotonic() + 60
        while self.standby.psql("SELECT pg_is_in_recovery()") != "f":
            if time.monotonic() > deadline:
                raise RuntimeError("the standby was not promoted")
            time.sleep(0.05)

    def stop_standby(self) -> None:
        self.standby.ctl("stop", "-m", "immediate")

    def start_standby(self) -> None:
        self.standby.ctl("start")
        self.standby.wait_ready()


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else f"hdbench{os.getpid()}"
    with PgPair(name) as pair:
        print(pair.url("postgres"), flush=True)
        print(f"primary {pair.primary.name}:{pair.primary.port}  standby "
              f"{pair.standby.name}:{pair.standby.port}; Ctrl-C or SIGTERM drops both",
              flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    main()
