"""The benchmark's own measures: CPU of process groups and the saturation verdict."""

import os
import subprocess
import sys

from workers.bench.procfs import CpuMeter
from workers.bench.saturation import machine_jiffies, verdict


def test_cpu_of_a_child_that_exited_is_counted_through_its_parent() -> None:
    meter = CpuMeter({"me": [os.getpid()]})
    meter.start()
    subprocess.run([sys.executable, "-c",
                    "import time\nend = time.process_time() + 0.4\n"
                    "while time.process_time() < end: pass"], check=True)
    used = meter.stop()["me"]
    assert used >= 0.35


def test_machine_jiffies_grow_and_busy_never_exceeds_total() -> None:
    busy0, total0 = machine_jiffies()
    sum(i * i for i in range(300_000))
    busy1, total1 = machine_jiffies()
    assert total1 >= total0 and 0 <= busy1 - busy0 <= total1 - total0


def test_machine_cpu_saturates_first_when_nearly_all_cores_are_busy() -> None:
    cores = {"worker-1": 0.46, "worker-2": 0.47, "broker": 0.52, "database": 0.29}
    assert verdict(cores, 1.93, 2).startswith("machine CPU: 1.93 of 2 cores busy "
                                              "(largest share: broker")


def test_a_worker_at_one_core_saturates_on_a_machine_with_room() -> None:
    cores = {"worker-1": 0.97, "worker-2": 0.95, "broker": 0.6, "database": 0.4}
    assert verdict(cores, 3.1, 8) == ("worker processes: worker-1, worker-2 at one core "
                                      "each (single-threaded)")


def test_nothing_saturates_when_cpu_is_left_everywhere() -> None:
    cores = {"worker-1": 0.3, "worker-2": 0.3, "broker": 0.2, "database": 0.1}
    assert verdict(cores, 1.0, 4).startswith("no CPU")
