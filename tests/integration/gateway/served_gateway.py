"""`haodian gateway serve` as a child process on a free port of 127.0.0.1, its log in a
file of JSON lines."""

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from harness import settings_env

from workers.settings import Settings

BIN = Path(sys.executable).parent


class Served:
    """A `haodian gateway serve` child process on a free port of 127.0.0.1."""

    def __init__(self, settings: Settings, log_path: Path,
                 env: dict[str, str] | None = None) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.log = log_path.open("ab")
        env = {**settings_env(settings), "HAODIAN_GATEWAY_TOKEN_CACHE_S": "0", **(env or {})}
        self.proc = subprocess.Popen([str(BIN / "haodian"), "gateway", "serve", "--port",
                                      str(self.port)], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/openapi.json", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"the gateway did not start: {log_path.read_text()}")
            time.sleep(0.1)

    def stop(self) -> int:
        self.proc.terminate()
        code = self.proc.wait(20)
        self.log.close()
        return code

    def lines(self) -> list[dict[str, Any]]:
        return [orjson.loads(line) for line in self.log_path.read_bytes().splitlines()]
