"""A malformed setting stops every `haodian` command at start: exit 2, one line per bad
variable (name and problem), no traceback."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from workers.cli.app import app

BIN = Path(sys.executable).parent
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("HAODIAN_")}


@pytest.mark.parametrize(("variable", "value", "command"), [
    ("HAODIAN_LOG_LEVEL", "abc", ["migrate"]),
    ("HAODIAN_RETRY_DELAYS_S", "abc", ["worker", "--domain", "settlement"]),
    ("HAODIAN_MONITOR_PORT", "abc", ["monitor"]),
    ("HAODIAN_THROUGHPUT_PER_PROCESS", "{bad", ["scale", "advise"]),
])
def test_the_console_script_names_the_bad_variable_and_exits_2(
        variable: str, value: str, command: list[str]) -> None:
    done = subprocess.run([str(BIN / "haodian"), *command], env={**CLEAN_ENV, variable: value},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    named = [line for line in done.stderr.splitlines() if variable in line]
    assert len(named) == 1 and named[0].strip().startswith(f"{variable}: ")
    assert len(named[0].strip()) > len(variable) + 2  # the problem follows the name


# One bad variable of each settings class; each command must name those of the classes it
# reads (workers and demos read OpsSettings through their monitoring, bench starts them).
BAD = {"Settings": ("HAODIAN_LOG_LEVEL", "abc"),
       "OpsSettings": ("HAODIAN_HEARTBEAT_INTERVAL_S", "soon"),
       "GatewaySettings": ("HAODIAN_GATEWAY_HEADER_TIMEOUT_S", "abc")}
READS: dict[str, tuple[list[str], set[str]]] = {
    "migrate": (["migrate"], {"Settings"}),
    "worker": (["worker"], {"Settings", "OpsSettings"}),
    "bench": (["bench", "settlement"], {"Settings", "OpsSettings"}),
    "demo": (["demo"], {"Settings", "OpsSettings"}),
    "publish": (["publish", "-"], {"Settings"}),
    "status": (["status"], {"Settings", "OpsSettings"}),
    "monitor": (["monitor"], {"Settings", "OpsSettings"}),
    "scale advise": (["scale", "advise"], {"Settings", "OpsSettings"}),
    "gateway serve": (["gateway", "serve"], {"Settings", "GatewaySettings"}),
    "gateway token add": (["gateway", "token", "add", "--source", "s"], {"Settings"}),
    "gateway token list": (["gateway", "token", "list"], {"Settings"}),
    "gateway token revoke": (["gateway", "token", "revoke", "1"], {"Settings"}),
    "dlq list": (["dlq", "list", "-d", "settlement"], {"Settings"}),
    "dlq show": (["dlq", "show", "-d", "settlement", "1"], {"Settings"}),
    "roles apply": (["roles", "apply"], {"Settings", "OpsSettings"}),
    "retention run": (["retention", "run"], {"Settings", "OpsSettings"}),
    "dlq replay": (["dlq", "replay", "-d", "settlement"], {"Settings"}),
    "dlq purge": (["dlq", "purge", "-d", "settlement"], {"Settings"}),
    "ledger verify": (["ledger", "verify"], {"Settings"}),
    "ledger balance": (["ledger", "balance", "--store", "s-1"], {"Settings"}),
    "statement": (["statement", "--store", "s-1", "--month", "2021-08"], {"Settings"}),
}
EXTRA = {"worker --processes": (["worker", "--processes", "2"], {"Settings", "OpsSettings"}),
         "bench gateway": (["bench", "gateway"], {"Settings", "GatewaySettings"}),
         "bench statements": (["bench", "statements"], {"Settings", "OpsSettings"}),
         "statement --all": (["statement", "--all", "--month", "2021-08", "--output", "d"],
                             {"Settings"})}
READS_NOTHING = {"schema export", "monitor-token"}


def _commands(group: Any, prefix: str = "") -> list[str]:
    names = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # a group
            names += _commands(command, f"{prefix}{name} ")
        else:
            names.append(f"{prefix}{name}")
    return names


def test_the_table_covers_every_command() -> None:
    assert set(_commands(typer.main.get_command(app))) == set(READS) | READS_NOTHING


@pytest.mark.parametrize("name", [*READS, *EXTRA])
def test_every_command_names_every_bad_variable_it_reads(name: str) -> None:
    args, reads = {**READS, **EXTRA}[name]
    result = CliRunner().invoke(app, args, env=dict(BAD.values()))
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # typer's Exit: no traceback
    lines = result.output.splitlines()
    for model, (variable, _) in BAD.items():
        named = [line for line in lines if variable in line]
        assert len(named) == (1 if model in reads else 0), (model, result.output)
