"""compose.yaml, the README and CI agree with each other and with what the tests run."""

import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from harness import worker_command
from typer.testing import CliRunner

from workers.cli.app import app
from workers.registry import DOMAIN_NAMES
from workers.settings import load_settings

ROOT = Path(__file__).resolve().parents[3]


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_has_the_stack() -> None:
    services = compose()["services"]
    assert {"rabbitmq", "postgres", "migrate"} <= set(services)
    assert "management" in services["rabbitmq"]["image"]
    for domain in DOMAIN_NAMES:
        worker = services[f"worker-{domain}"]
        assert worker["deploy"]["replicas"] >= 1
        assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_compose_commands_are_the_ones_tested_natively() -> None:
    services = compose()["services"]
    for domain in DOMAIN_NAMES:
        assert services[f"worker-{domain}"]["command"] == worker_command(domain)
    runner = CliRunner()
    for name, service in services.items():
        if service.get("entrypoint") != ["haodian"]:
            continue
        result = runner.invoke(app, [*service["command"], "--help"])
        assert result.exit_code == 0, f"{name}: {service['command']} -> {result.output}"


def test_compose_settings_are_valid() -> None:
    for name, service in compose()["services"].items():
        env = service.get("environment", {})
        if not any(k.startswith("HAODIAN_") for k in env):
            continue
        assert {"HAODIAN_AMQP_URL", "HAODIAN_DATABASE_URL"} <= set(env), name
        s = load_settings(amqp_url=env["HAODIAN_AMQP_URL"],
                          database_url=env["HAODIAN_DATABASE_URL"])
        assert urlsplit(s.amqp_url).hostname == "rabbitmq"
        assert [h["host"] for h in s.database_url.hosts()] == ["postgres"]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", text)[:2]


def test_readme_opens_with_demo_and_test_commands() -> None:
    demo, tests = readme_commands()
    assert demo.endswith("haodian demo")
    assert "pytest" in tests


def test_ci_runs_exactly_the_readme_test_command() -> None:
    lines = [ln for ln in (ROOT / ".ci" / "run").read_text().splitlines()
             if ln.strip() and not ln.startswith(("#", "set ", "cd "))]
    assert lines[-1] == readme_commands()[1]
    assert shlex.split(lines[-1])[0] == "bash"
