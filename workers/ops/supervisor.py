"""`haodian worker --processes N`: run N worker processes, restart crashed ones, drain on SIGTERM.

Each child is an ordinary `haodian worker` process (same options, its own metrics port
when one is set: base port + slot). A child that exits while the supervisor is not
stopping is restarted after a backoff that doubles up to a limit and starts again from
the first delay once a child has run for a minute. SIGTERM (or SIGINT) is forwarded to
every child; the supervisor waits for them up to the grace period (plus a margin for
their own shutdown), kills what is left, and exits 0 when every child drained cleanly."""

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog

log = structlog.get_logger()

STABLE_AFTER_S = 60.0  # a child that lived this long resets its slot's backoff
EXIT_MARGIN_S = 5.0  # on top of the grace period: interpreter start-up and close


def child_command(worker_args: Sequence[str], metrics_port: int, slot: int) -> list[str]:
    """A child's command line: the supervisor's worker options, its own metrics port."""
    port = metrics_port + slot if metrics_port else 0
    return [sys.executable, "-m", "workers", "worker", *worker_args, f"--metrics-port={port}"]


@dataclass
class Slot:
    index: int
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    clean_exit: bool = True


class Supervisor:
    """Keeps `processes` children alive until asked to stop."""

    def __init__(self, args_for: Callable[[int], list[str]], processes: int,
                 grace_period_s: float, backoff_s: float, backoff_max_s: float) -> None:
        self.args_for = args_for
        self.slots = [Slot(i) for i in range(processes)]
        self.grace_period_s = grace_period_s
        self.backoff_s, self.backoff_max_s = backoff_s, backoff_max_s
        self.stopping = asyncio.Event()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        log.info("supervisor_started", processes=len(self.slots))
        try:
            await asyncio.gather(*(self._keep(slot) for slot in self.slots))
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
        clean = all(s.clean_exit for s in self.slots)
        log.info("supervisor_stopped", clean=clean)
        return 0 if clean else 1

    def request_stop(self) -> None:
        if self.stopping.is_set():
            return
        log.info("supervisor_stopping", grace_period_s=self.grace_period_s)
        self.stopping.set()
        for slot in self.slots:
            if slot.process is not None and slot.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    slot.process.send_signal(signal.SIGTERM)

    async def _keep(self, slot: Slot) -> None:
        """Run the slot's child again and again until the supervisor stops."""
        backoff = self.backoff_s
        while not self.stopping.is_set():
            started = time.monotonic()
            slot.process = await asyncio.create_subprocess_exec(*self.args_for(slot.index))
            log.info("worker_process_started", slot=slot.index, pid=slot.process.pid,
                     restarts=slot.restarts)
            if self.stopping.is_set():  # the signal came while it was being spawned
                slot.process.send_signal(signal.SIGTERM)
            code = await self._wait(slot)
            if self.stopping.is_set():
                slot.clean_exit = code == 0
                return
            if time.monotonic() - started > STABLE_AFTER_S:
                backoff = self.backoff_s
            log.warning("worker_process_exited", slot=slot.index, pid=slot.process.pid,
                        exit_code=code, restart_in_s=backoff)
            slot.restarts += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), backoff)
            backoff = min(backoff * 2, self.backoff_max_s)

    async def _wait(self, slot: Slot) -> int:
        """The child's exit code; once stopping, kill it past the grace period."""
        assert slot.process is not None
        wait = asyncio.ensure_future(slot.process.wait())
        stop = asyncio.ensure_future(self.stopping.wait())
        await asyncio.wait({wait, stop}, return_when=asyncio.FIRST_COMPLETED)
        if not wait.done():
            try:
                await asyncio.wait_for(asyncio.shield(wait), self.grace_period_s + EXIT_MARGIN_S)
            except TimeoutError:
                log.error("worker_process_killed", slot=slot.index, pid=slot.process.pid)
                with contextlib.suppress(ProcessLookupError):
                    slot.process.kill()
                await wait
                stop.cancel()
                return -9
        stop.cancel()
        return wait.result()
