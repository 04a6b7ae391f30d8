"""Children's command lines: the supervisor's options, a metrics port per slot."""

import sys

from workers.ops.supervisor import child_command


def test_each_slot_gets_its_own_metrics_port() -> None:
    args = ["--domain=settlement", "--prefetch=500"]
    assert child_command(args, 9100, 0) == [sys.executable, "-m", "workers", "worker",
                                            *args, "--metrics-port=9100"]
    assert child_command(args, 9100, 3)[-1] == "--metrics-port=9103"


def test_no_metrics_port_stays_off_for_every_slot() -> None:
    assert child_command([], 0, 2)[-1] == "--metrics-port=0"
