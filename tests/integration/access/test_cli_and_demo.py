"""The split end to end through the `haodian` command: migrate refused in one line without
the migration role, `roles apply` printing nothing the second time, and the demo's story
with the worker on the runtime role and user, status and the DLQ tools on the read-only
role and the monitor user."""

import io
import subprocess
import sys
from pathlib import Path

import orjson
from conftest import Split
from harness import WorkerProcess, settings_env
from rich.console import Console

from workers.demo.run import new_tag, run_demo
from workers.tools.dlq import Filter, list_dead_letters, purge

HAODIAN = str(Path(sys.executable).parent / "haodian")


def haodian(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HAODIAN, *args], env=env, capture_output=True, text=True,
                          timeout=120)


def env_as(split: Split, role: str, user: str, **extra: str) -> dict[str, str]:
    env = settings_env(split.as_(role, user))
    env["HAODIAN_ROLE_PREFIX"] = split.roles.migrator.removesuffix("_migrator")
    env.update(extra)
    return env


def test_migrate_as_the_runtime_role_names_the_migration_role_in_one_line(
        split: Split) -> None:
    done = haodian(env_as(split, split.roles.runtime, split.users.worker), "migrate")

    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert (f"haodian migrate needs the migration role {split.roles.migrator}: PostgreSQL "
            f"refused role {split.roles.runtime}: permission denied for schema public"
            ) in done.stderr


def test_migrate_with_a_broker_user_that_may_not_declare_says_which(split: Split) -> None:
    done = haodian(env_as(split, split.roles.migrator, split.users.gateway), "migrate")

    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert f"such as {split.users.worker}: the broker refused: ACCESS_REFUSED" in done.stderr


def test_roles_apply_as_administrator_prints_nothing_to_change_the_second_time(
        split: Split) -> None:
    env = settings_env(split.admin)
    env["HAODIAN_ROLE_PREFIX"] = split.roles.migrator.removesuffix("_migrator")
    env["HAODIAN_MANAGEMENT_URL"] = split.ops.management_url
    for name, secret in split.passwords.model_dump().items():
        env[f"HAODIAN_{name.upper()}"] = secret.get_secret_value()

    done = haodian(env, "roles", "apply")

    assert done.returncode == 0, done.stderr
    assert "postgres: nothing to change" in done.stdout
    assert "rabbitmq: nothing to change" in done.stdout


def test_roles_apply_as_a_role_without_rights_is_refused_in_one_line(split: Split) -> None:
    env = env_as(split, split.roles.runtime, split.users.worker,
                 HAODIAN_PG_PASSWORD_MIGRATOR="a new password")  # not the runtime's to change
    done = haodian(env, "roles", "apply", "--no-rabbitmq")

    assert done.returncode == 2, done.stdout
    assert "roles apply refused: permission denied" in done.stderr
    assert "Traceback" not in done.stderr


async def test_the_demo_story_runs_under_the_restricted_roles(split: Split,
                                                             tmp_path: Path) -> None:
    worker = WorkerProcess(split.as_(split.roles.runtime, split.users.worker), "all",
                           str(tmp_path / "worker.log"))
    try:
        # The demo plays the upstream systems and a results consumer, which are not
        # haodian's parts: it publishes as the administrator, reads as the read-only role.
        story = split.admin.model_copy(update={
            "database_url": split.as_(split.roles.readonly, split.users.monitor).database_url})
        out = io.StringIO()
        code = await run_demo(story, Console(file=out, width=160, color_system=None),
                              orders=100, applications=40, tag=new_tag(),
                              start_worker=False, migrate=False)
    finally:
        worker_code = worker.terminate()
    text = out.getvalue()
    assert code == 0, text + (tmp_path / "worker.log").read_text()[-3000:]
    assert "ledger verify:" in text and ", 0 failed" in text
    assert worker_code == 0

    status = haodian(env_as(split, split.roles.readonly, split.users.monitor,
                            HAODIAN_MANAGEMENT_URL=split.management_url(split.users.monitor)),
                     "status", "--json")
    assert status.returncode == 0, status.stderr
    report = orjson.loads(status.stdout)
    assert report["source"] == "management"

    monitor = split.as_(split.roles.readonly, split.users.monitor)
    letters = await list_dead_letters(str(monitor.amqp_url), str(monitor.database_url),
                                      "compliance", Filter())
    assert letters  # the story's broken messages
    purged = await purge(str(monitor.amqp_url), str(monitor.database_url), "compliance",
                         Filter(everything=True), "role-test")
    assert purged == len(letters)
