"""A private PgBouncer (Debian's `pgbouncer`) in transaction mode in front of one database.

    with PgBouncer(tmp_dir, "127.0.0.1", 5432, "haodian_t_1") as bouncer:
        bouncer.url      postgresql://127.0.0.1:<free port>/haodian_t_1?statement_cache_size=0
"""

import getpass
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgBouncer:
    def __init__(self, directory: Path, host: str, port: int, database: str) -> None:
        self.directory = directory
        self.port = _free_port()
        self.url = (f"postgresql://127.0.0.1:{self.port}/{database}"
                    "?statement_cache_size=0")
        user = getpass.getuser()
        (directory / "users.txt").write_text(f'"{user}" ""\n')
        (directory / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"{database} = host={host} port={port} dbname={database}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {directory / 'users.txt'}\n"
            "pool_mode = transaction\nmax_client_conn = 500\ndefault_pool_size = 20\n")
        for name in ("users.txt", "pgbouncer.ini"):
            (directory / name).chmod(0o644)
        self.log_path = directory / "pgbouncer.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "PgBouncer":
        binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        # PgBouncer refuses to run as root; the postgres account then owns the process.
        run_as = ["-u", "postgres"] if os.geteuid() == 0 else []
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([binary, *run_as, str(self.directory / "pgbouncer.ini")],
                                         stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pgbouncer exited: {self.log_path.read_text()[-2000:]}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        raise RuntimeError(f"pgbouncer did not listen: {self.log_path.read_text()[-2000:]}")

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
