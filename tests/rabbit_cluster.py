"""A private three-node RabbitMQ cluster from the Debian package, for the cluster tier.

    with RabbitCluster(tmp_dir) as cluster:
        cluster.amqp_url        "amqp://…:<p1>/,amqp://…:<p2>/,amqps://localhost:<p3>/?cafile=…"
        cluster.nodes[i]        name, AMQP port, management URL, TLS or not
        cluster.kill(node)      SIGKILL its Erlang VM;  cluster.start(node) boots it again
        cluster.ctl(node, ...)  rabbitmqctl against it

Each node is its own Erlang VM run as the rabbitmq user (so it shares the machine's
Erlang cookie with rabbitmqctl), with its own RABBITMQ_NODENAME (`hdN_<pid>@localhost`),
config file (its own listeners: the machine's /etc/rabbitmq/rabbitmq.conf pins
127.0.0.1:5672), env file, distribution port, data, log and plugins files, all under the
temporary directory. Ports are free ones picked at start, so concurrent test runs do not
clash. The last node listens with TLS only, on a certificate signed by a CA the fixture
makes with openssl. Nodes 2 and 3 join node 1 with `rabbitmqctl join_cluster`.

The machine's own rabbit@localhost is never joined, stopped or reconfigured: every
command names one of this cluster's nodes, and teardown kills only the processes whose
pid files this cluster's nodes wrote (checked against their environment's node name).
"""

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
RABBIT_HOME = "/var/lib/rabbitmq"  # the rabbitmq user's home: its .erlang.cookie
BOOT_TIMEOUT_S = 90


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Node:
    index: int
    name: str  # hdN_<pid>@localhost
    directory: Path
    amqp_port: int
    dist_port: int
    management_port: int
    tls: bool
    process: subprocess.Popen[bytes] | None = None

    @property
    def management_url(self) -> str:
        return f"http://guest:guest@127.0.0.1:{self.management_port}"

    @property
    def pid_file(self) -> Path:
        return self.directory / "node.pid"

    def vm_pid(self) -> int | None:
        """The Erlang VM's pid: the one its pid file names, or else found among the
        machine's beam.smp processes, when its environment names this node."""
        try:
            candidates = [int(self.pid_file.read_text().strip())]
        except (OSError, ValueError):
            candidates = []
        candidates += [int(p.parent.name) for p in Path("/proc").glob("[0-9]*/comm")
                       if _read(p).strip() == b"beam.smp"]
        wanted = f"RABBITMQ_NODENAME={self.name}".encode()
        for pid in candidates:
            if wanted in _read(Path(f"/proc/{pid}/environ")).split(b"\0"):
                return pid
        return None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


class RabbitCluster:
    def __init__(self, directory: Path, size: int = 3, tls_last: bool = True) -> None:
        self.directory = directory
        self.rabbitmq = pwd.getpwnam("rabbitmq")
        tag = os.getpid()
        self.nodes = [Node(i + 1, f"hd{i + 1}_{tag}@localhost", directory / f"hd{i + 1}",
                           free_port(), free_port(), free_port(),
                           tls=tls_last and i == size - 1) for i in range(size)]
        self.ca_file = directory / "tls" / "ca.pem"
        self.wrong_ca_file = directory / "tls" / "wrong-ca.pem"

    # ---- URLs --------------------------------------------------------------------------
    def node_url(self, node: Node, cafile: Path | None = None) -> str:
        if node.tls:
            return (f"amqps://guest:guest@localhost:{node.amqp_port}/"
                    f"?cafile={cafile or self.ca_file}")
        return f"amqp://guest:guest@127.0.0.1:{node.amqp_port}/"

    @property
    def amqp_url(self) -> str:
        return ",".join(self.node_url(n) for n in self.nodes)

    def url_starting_at(self, node: Node) -> str:
        """Every node, `node` first, the others in order after it."""
        i = self.nodes.index(node)
        return ",".join(self.node_url(n) for n in self.nodes[i:] + self.nodes[:i])

    def by_name(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    # ---- life cycle --------------------------------------------------------------------
    def __enter__(self) -> "RabbitCluster":
        try:
            self._make_certificates()
            for node in self.nodes:
                self._write_files(node)
            with ThreadPoolExecutor(len(self.nodes)) as pool:
                list(pool.map(self.start, self.nodes))
            first = self.nodes[0]
            for node in self.nodes[1:]:
                self.ctl(node, "stop_app")
                self.ctl(node, "join_cluster", first.name)
                self.ctl(node, "start_app")
                self._wait_listening(node)
            return self
        except BaseException:
            self.close()
            raise

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Every node of this cluster stopped (TERM, then KILL), the directory removed."""
        for node in self.nodes:
            pid = node.vm_pid()
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for node in self.nodes:
            while node.vm_pid() is not None and time.monotonic() < deadline:
                time.sleep(0.2)
            pid = node.vm_pid()
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            if node.process is not None:
                with contextlib.suppress(ProcessLookupError):
                    node.process.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    node.process.wait(10)
        shutil.rmtree(self.directory, ignore_errors=True)

    def start(self, node: Node) -> None:
        """Boot the node's VM (again, after a kill: it rejoins with its data)."""
        log = open(node.directory / "log" / "console.log", "ab")
        try:
            node.process = subprocess.Popen(
                [SERVER], env=self._env(node), cwd=node.directory, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, user="rabbitmq", group="rabbitmq",
                start_new_session=True)
        finally:
            log.close()
        self._wait_listening(node)

    def kill(self, node: Node) -> None:
        """SIGKILL the node's Erlang VM, as a crash would."""
        pid = node.vm_pid()
        assert pid is not None, f"{node.name} is not running"
        os.kill(pid, signal.SIGKILL)
        if node.process is not None:
            node.process.wait(10)
        deadline = time.monotonic() + 10
        while listening(node.amqp_port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def ctl(self, node: Node, *args: str, timeout_s: float = 120) -> str:
        done = subprocess.run(["rabbitmqctl", "-n", node.name, "-q", *args],
                              capture_output=True, text=True, timeout=timeout_s, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl -n {node.name} {' '.join(args)}: "
                               f"{done.stdout[-1000:]}{done.stderr[-1000:]}")
        return done.stdout

    def _wait_listening(self, node: Node) -> None:
        deadline = time.monotonic() + BOOT_TIMEOUT_S
        while time.monotonic() < deadline:
            if node.process is not None and node.process.poll() is not None:
                raise RuntimeError(f"{node.name} exited: {self._log_tail(node)}")
            if listening(node.amqp_port) and listening(node.management_port):
                return
            time.sleep(0.2)
        raise RuntimeError(f"{node.name} did not listen in {BOOT_TIMEOUT_S} s: "
                           f"{self._log_tail(node)}")

    def _log_tail(self, node: Node) -> str:
        texts = [p.read_text(errors="replace")[-1500:]
                 for p in sorted((node.directory / "log").glob("*.log"))]
        return "\n".join(texts)

    # ---- files -------------------------------------------------------------------------
    def _env(self, node: Node) -> dict[str, str]:
        d = node.directory
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": RABBIT_HOME,
            "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "RABBITMQ_NODENAME": node.name,
            "RABBITMQ_CONF_ENV_FILE": str(d / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(d / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(d / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(d / "enabled_plugins"),
            "RABBITMQ_DIST_PORT": str(node.dist_port),
            "RABBITMQ_MNESIA_BASE": str(d / "data"),
            "RABBITMQ_LOG_BASE": str(d / "log"),
            "RABBITMQ_PID_FILE": str(node.pid_file),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_CRASH_DUMP": str(d / "erl_crash.dump"),
            # Distribution on loopback only; schedulers that do not spin when idle (the
            # cluster shares two cores with the tests).
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS":
                "-kernel inet_dist_use_interface {127,0,0,1} "
                "+sbwt none +sbwtdcpu none +sbwtdio none",
        }

    def _write_files(self, node: Node) -> None:
        d = node.directory
        for sub in ("data", "log"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        (d / "rabbitmq-env.conf").write_text("# this node's settings are in its environment\n")
        (d / "enabled_plugins").write_text("[rabbitmq_management].\n")
        if node.tls:
            tls = self.directory / "tls"
            listeners = (f"listeners.tcp = none\nlisteners.ssl.1 = 127.0.0.1:{node.amqp_port}\n"
                         f"ssl_options.cacertfile = {tls / 'ca.pem'}\n"
                         f"ssl_options.certfile = {tls / 'server.pem'}\n"
                         f"ssl_options.keyfile = {tls / 'server.key'}\n"
                         "ssl_options.verify = verify_none\n"
                         "ssl_options.fail_if_no_peer_cert = false\n")
        else:
            listeners = f"listeners.tcp.1 = 127.0.0.1:{node.amqp_port}\n"
        (d / "rabbitmq.conf").write_text(
            listeners +
            f"management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = {node.management_port}\n"
            "queue_leader_locator = balanced\n"
            "disk_free_limit.absolute = 50MB\n"
            "log.console = false\nlog.file.level = info\n")
        self._chown(d)

    def _chown(self, path: Path) -> None:
        for p in [path, *path.rglob("*")]:
            os.chown(p, self.rabbitmq.pw_uid, self.rabbitmq.pw_gid)

    def _make_certificates(self) -> None:
        """A CA and a server certificate for localhost/127.0.0.1 signed by it; a second,
        unrelated CA for the refusal test."""
        tls = self.directory / "tls"
        tls.mkdir(parents=True, exist_ok=True)

        def ssl(*args: str) -> None:
            subprocess.run(["openssl", *args], cwd=tls, check=True, capture_output=True,
                           timeout=60)

        for ca in ("ca", "wrong-ca"):
            ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", f"/CN=haodian test {ca}", "-keyout", f"{ca}.key", "-out", f"{ca}.pem")
        ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
            "-keyout", "server.key", "-out", "server.csr")
        (tls / "ext.cnf").write_text("subjectAltName = DNS:localhost, IP:127.0.0.1\n"
                                     "extendedKeyUsage = serverAuth\n")
        ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "server.pem")
        self.directory.chmod(0o755)
        for p in tls.iterdir():
            p.chmod(0o644)
        self._chown(tls)
