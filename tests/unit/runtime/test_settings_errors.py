"""Every HAODIAN_* setting fails the same way: a SettingsError with one line per bad
variable, naming it, never repeating its value."""

import typing

import pytest
from pydantic import AnyUrl
from pydantic_settings import BaseSettings

from workers.gateway.config import GatewaySettings
from workers.settings import OpsSettings, Settings, SettingsError, load

MODELS: list[type[BaseSettings]] = [Settings, OpsSettings, GatewaySettings]
# A value no field of that type can take (dicts and tuples are JSON in the environment).
BY_TYPE: dict[object, str] = {int: "abc", float: "abc", tuple: "{bad", dict: "{bad",
                              bool: "maybe", AnyUrl: "not a url"}
BY_NAME = {"log_level": "abc", "log_format": "xml", "metrics_host": "bad/host",
           "monitor_host": "two words", "management_url": "ftp://elsewhere",
           "role_prefix": "Bad Prefix!"}
# Fields where any text is a valid value, and why.
FREE_TEXT = {"monitor_token": "any text is a token; unset, the dashboard refuses to start",
             "monitor_token_file": "any path; only `haodian monitor` reads it, and refuses "
                                   "an unreadable one (tests/unit/ops/test_monitor_token.py)"}


def variable(model: type[BaseSettings], field: str) -> str:
    return f"{model.model_config.get('env_prefix', '')}{field.upper()}"


def _base(annotation: object) -> object:
    """int for int, tuple for tuple[int, ...], AnyUrl for Annotated[AnyUrl, …], …"""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return typing.get_origin(annotation) or annotation


def unparsable(model: type[BaseSettings], field: str) -> str | None:
    if field in BY_NAME:
        return BY_NAME[field]
    return BY_TYPE.get(_base(model.model_fields[field].annotation))


FIELDS = [(m, f) for m in MODELS for f in m.model_fields if f not in FREE_TEXT]


def test_every_field_has_an_unparsable_value_or_is_free_text() -> None:
    missing = [variable(m, f) for m, f in FIELDS if unparsable(m, f) is None]
    assert missing == [], "add an unparsable value for these to the table above"


@pytest.mark.parametrize(("model", "field"), FIELDS,
                         ids=[variable(m, f) for m, f in FIELDS])
def test_an_unparsable_value_names_its_variable_on_one_line(
        model: type[BaseSettings], field: str, monkeypatch: pytest.MonkeyPatch) -> None:
    value = unparsable(model, field)
    assert value is not None
    monkeypatch.setenv(variable(model, field), value)
    with pytest.raises(SettingsError) as caught:
        load(model)
    (line,) = caught.value.problems
    name, _, problem = line.partition(": ")
    assert name == variable(model, field)
    assert problem and "\n" not in problem and value not in problem


def test_several_bad_variables_are_all_named_once_each(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAODIAN_LOG_LEVEL", "loud")
    monkeypatch.setenv("HAODIAN_RETRY_DELAYS_S", '[1, "x", "y"]')
    monkeypatch.setenv("HAODIAN_PREFETCH", "0")
    with pytest.raises(SettingsError) as caught:
        load(Settings)
    assert sorted(line.partition(":")[0] for line in caught.value.problems) == [
        "HAODIAN_LOG_LEVEL", "HAODIAN_PREFETCH", "HAODIAN_RETRY_DELAYS_S"]
    delays = next(p for p in caught.value.problems if p.startswith("HAODIAN_RETRY"))
    assert "[1]" in delays and "[2]" in delays  # which items, on the variable's one line


@pytest.mark.parametrize("level", ["debug", "INFO", "Warning", "warn", "error", "critical",
                                   "fatal"])
def test_log_level_takes_the_standard_level_names(level: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAODIAN_LOG_LEVEL", level)
    assert load(Settings).log_level == level.lower()


@pytest.mark.parametrize("level", ["abc", "notset", "verbose", "", "5"])
def test_log_level_refuses_anything_else(level: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAODIAN_LOG_LEVEL", level)
    with pytest.raises(SettingsError, match="HAODIAN_LOG_LEVEL: unknown log level; one of "):
        load(Settings)


def test_json_settings_are_parsed_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAODIAN_RETRY_DELAYS_S", "[2, 4]")
    monkeypatch.setenv("HAODIAN_THROUGHPUT_PER_PROCESS", '{"settlement": 900}')
    assert load(Settings).retry_delays_s == (2, 4)
    assert load(OpsSettings).throughput_per_process == {"settlement": 900.0}
    monkeypatch.setenv("HAODIAN_THROUGHPUT_PER_PROCESS", '{"setlement": 900}')
    with pytest.raises(SettingsError, match="unknown domain setlement"):
        load(OpsSettings)


def test_a_password_in_a_bad_url_is_not_repeated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAODIAN_DATABASE_URL", "postgresql://u:hunter2@db:99999/x")
    with pytest.raises(SettingsError) as caught:
        load(Settings)
    assert caught.value.problems[0].startswith("HAODIAN_DATABASE_URL: ")
    assert "hunter2" not in str(caught.value)
