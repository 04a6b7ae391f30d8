"""The monitor's token: made by `haodian monitor-token`, read from a file or the variable."""

from pathlib import Path

from typer.testing import CliRunner

from workers.cli.app import app
from workers.settings import OpsSettings


def test_monitor_token_writes_a_fresh_token_and_never_overwrites_silently(
        tmp_path: Path) -> None:
    out = tmp_path / "prometheus" / "haodian-monitor-token"
    runner = CliRunner()
    first = runner.invoke(app, ["monitor-token", "--output", str(out)])
    assert first.exit_code == 0, first.output
    token = out.read_text().strip()
    assert len(token) >= 40 and out.stat().st_mode & 0o777 == 0o644
    again = runner.invoke(app, ["monitor-token", "--output", str(out)])
    assert again.exit_code == 2 and "--force" in again.output
    assert out.read_text().strip() == token
    forced = runner.invoke(app, ["monitor-token", "--output", str(out), "--force"])
    assert forced.exit_code == 0 and out.read_text().strip() != token


def test_the_token_comes_from_the_variable_first_then_the_file(tmp_path: Path) -> None:
    file = tmp_path / "token"
    file.write_text("from-the-file\n")
    assert OpsSettings(monitor_token_file=file).monitor_secret() == "from-the-file"
    assert OpsSettings(monitor_token="from-env", monitor_token_file=file
                       ).monitor_secret() == "from-env"
    assert OpsSettings().monitor_secret() is None
    file.write_text("\n")
    assert OpsSettings(monitor_token_file=file).monitor_secret() is None


def test_the_monitor_refuses_an_unreadable_token_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["monitor"], env={
        "HAODIAN_MONITOR_TOKEN_FILE": str(tmp_path / "missing")})
    assert result.exit_code == 2 and "cannot be read" in result.output
