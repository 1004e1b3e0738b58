"""The settings schema: source precedence, errors that name their key, and the generated reference."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.settings import (
    ConfigError,
    Settings,
    load_settings,
    render_settings,
    setting_specs,
    settings_reference,
)


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults() -> None:
    settings = load_settings(None, {}, {})
    assert settings == Settings()
    assert settings.data_dir == Path("data")
    assert settings.listen_host == "127.0.0.1"
    assert settings.listen_port == 8080
    assert settings.max_request_bytes == 50 * 1024 * 1024
    assert settings.max_item_bytes == 20 * 1024 * 1024
    assert settings.log_level == "info"


def test_precedence_default_toml_env_cli(tmp_path: Path) -> None:
    config = write_toml(
        tmp_path,
        '[server]\nlisten = "10.0.0.1:1000"\nlog_level = "debug"\nbase_url = "https://toml.example"\n'
        "[auth]\nmax_failures = 7\n",
    )
    env = {"GATEWAY_LISTEN": "10.0.0.2:2000", "GATEWAY_LOG_LEVEL": "warning"}
    settings = load_settings(config, env, {"listen": "10.0.0.3:3000"})
    assert settings.listen == "10.0.0.3:3000"  # cli beats env and toml
    assert settings.log_level == "warning"  # env beats toml
    assert settings.base_url == "https://toml.example"  # toml beats default
    assert settings.auth_max_failures == 7
    assert settings.auth_lockout_seconds == 60  # default survives


def test_every_toml_key_is_read(tmp_path: Path) -> None:
    config = write_toml(
        tmp_path,
        """
        [server]
        data_dir = "/srv/gw"
        listen = "[::1]:8443"
        base_url = "https://dav.example.org/"
        log_level = "ERROR"
        [storage]
        url = "sqlite:///srv/other.db"
        [limits]
        max_request_bytes = 1000
        max_item_bytes = 500
        [auth]
        cache_seconds = 0
        max_failures = 3
        failure_window_seconds = 30
        lockout_seconds = 10
        [locks]
        max_timeout_seconds = 600
        """.replace("\n        ", "\n"),
    )
    settings = load_settings(config, {}, {})
    assert settings == Settings(
        data_dir=Path("/srv/gw"),
        storage_url="sqlite:///srv/other.db",
        listen="[::1]:8443",
        base_url="https://dav.example.org",
        log_level="error",
        max_request_bytes=1000,
        max_item_bytes=500,
        auth_cache_seconds=0,
        auth_max_failures=3,
        auth_failure_window_seconds=30,
        auth_lockout_seconds=10,
        lock_max_timeout_seconds=600,
    )
    assert (settings.listen_host, settings.listen_port) == ("::1", 8443)
    assert settings.public_url == "https://dav.example.org"
    assert settings.effective_storage_url == "sqlite:///srv/other.db"


def test_env_values_are_converted() -> None:
    settings = load_settings(None, {"GATEWAY_MAX_ITEM_BYTES": "123", "GATEWAY_DATA_DIR": "/var/gw"}, {})
    assert settings.max_item_bytes == 123
    assert settings.data_dir == Path("/var/gw")


def test_empty_env_unsets_optional_value(tmp_path: Path) -> None:
    config = write_toml(tmp_path, '[server]\nbase_url = "https://x.example"\n')
    assert load_settings(config, {"GATEWAY_BASE_URL": ""}, {}).base_url is None


def test_config_file_from_environment(tmp_path: Path) -> None:
    config = write_toml(tmp_path, "[locks]\nmax_timeout_seconds = 42\n")
    assert load_settings(None, {"GATEWAY_CONFIG": str(config)}, {}).lock_max_timeout_seconds == 42


def test_explicit_config_file_wins_over_environment(tmp_path: Path) -> None:
    config = write_toml(tmp_path, "[locks]\nmax_timeout_seconds = 42\n")
    missing = tmp_path / "missing.toml"
    assert load_settings(config, {"GATEWAY_CONFIG": str(missing)}, {}).lock_max_timeout_seconds == 42


def test_unrelated_gateway_variables_are_ignored() -> None:
    assert load_settings(None, {"GATEWAY_INTERFACE": "CGI/1.1"}, {}) == Settings()


def test_typed_overrides_are_accepted() -> None:
    settings = load_settings(None, {}, {"data_dir": Path("/x"), "auth_cache_seconds": 5})
    assert settings.data_dir == Path("/x")
    assert settings.auth_cache_seconds == 5


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[server]\nlisten = "abc"\n', "server.listen: expected HOST:PORT, got 'abc'"),
        ('[server]\nlisten = "host:http"\n', "server.listen: expected HOST:PORT"),
        ('[server]\nlisten = ":8080"\n', "server.listen: expected HOST:PORT"),
        ('[server]\nlisten = "h:70000"\n', "server.listen: expected HOST:PORT"),
        ("[server]\nlisten = 8080\n", "server.listen: expected a string, got 8080"),
        ('[server]\nbase_url = "ftp://x"\n', "server.base_url: expected an http:// or https:// URL"),
        ('[server]\nlog_level = "loud"\n', "server.log_level: expected one of debug, info, warning, error"),
        ('[server]\ndata_dir = ""\n', "server.data_dir: expected a path"),
        ('[storage]\nurl = "no-scheme"\n', "storage.url: expected a URL"),
        ("[limits]\nmax_item_bytes = -1\n", "limits.max_item_bytes: expected an integer >= 1, got -1"),
        ('[limits]\nmax_request_bytes = "50MB"\n', "limits.max_request_bytes: expected an integer, got '50MB'"),
        ("[auth]\ncache_seconds = true\n", "auth.cache_seconds: expected an integer, got True"),
        ("[auth]\ncache_seconds = -1\n", "auth.cache_seconds: expected an integer >= 0"),
        ("[auth]\nmax_failures = 0\n", "auth.max_failures: expected an integer >= 1"),
        ("[auth]\nlockout_seconds = 1.5\n", "auth.lockout_seconds: expected an integer, got 1.5"),
        ("[locks]\nmax_timeout_seconds = 0\n", "locks.max_timeout_seconds: expected an integer >= 1"),
        ("[server]\nlisen = 1\n", "server.lisen: unknown setting"),
        ("[nosuch]\nkey = 1\n", "nosuch.key: unknown setting"),
        ('listen = "127.0.0.1:80"\n', "listen: unknown setting"),
    ],
)
def test_toml_errors_name_the_key(tmp_path: Path, toml: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write_toml(tmp_path, toml), {}, {})
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GATEWAY_LISTEN": "abc"}, "GATEWAY_LISTEN: expected HOST:PORT, got 'abc'"),
        ({"GATEWAY_MAX_REQUEST_BYTES": "-5"}, "GATEWAY_MAX_REQUEST_BYTES: expected an integer >= 1, got -5"),
        ({"GATEWAY_AUTH_MAX_FAILURES": "many"}, "GATEWAY_AUTH_MAX_FAILURES: expected an integer, got 'many'"),
        ({"GATEWAY_LOG_LEVEL": "chatty"}, "GATEWAY_LOG_LEVEL: expected one of"),
    ],
)
def test_env_errors_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, env, {})
    assert str(caught.value).startswith(message)


def test_override_errors_name_the_flag() -> None:
    with pytest.raises(ConfigError, match=r"^--listen: expected HOST:PORT, got 'nope'$"):
        load_settings(None, {}, {"listen": "nope"})
    with pytest.raises(ConfigError, match=r"^max_item_bytes: expected an integer >= 1, got 0$"):
        load_settings(None, {}, {"max_item_bytes": 0})
    with pytest.raises(ConfigError, match=r"^no_such_field: unknown setting$"):
        load_settings(None, {}, {"no_such_field": 1})


def test_missing_and_malformed_config_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.toml: cannot read config file"):
        load_settings(tmp_path / "missing.toml", {}, {})
    with pytest.raises(ConfigError, match=r"gateway\.toml: invalid TOML"):
        load_settings(write_toml(tmp_path, "[server\n"), {}, {})


def test_effective_storage_url_defaults_to_absolute_file_in_data_dir() -> None:
    assert Settings(data_dir=Path("/srv/gw")).effective_storage_url == "sqlite:///srv/gw/gateway.db"
    relative = Settings(data_dir=Path("state")).effective_storage_url
    assert relative == f"sqlite://{Path('state').absolute()}/gateway.db"


def test_public_url_replaces_wildcard_bind() -> None:
    assert Settings(listen="0.0.0.0:9000").public_url == "http://localhost:9000"
    assert Settings(listen="[::1]:9000").public_url == "http://[::1]:9000"


def test_reference_lists_every_setting() -> None:
    reference = settings_reference()
    specs = setting_specs()
    assert {spec.name for spec in specs} == {f for f in Settings.__dataclass_fields__}
    for spec in specs:
        row = next(line for line in reference.splitlines() if line.startswith(f"| `{spec.toml}` |"))
        assert f"`{spec.env}`" in row
        assert spec.doc in row
        if spec.cli:
            assert f"`{spec.cli}`" in row
        assert spec.env == f"GATEWAY_{spec.name.upper()}"


def test_rendered_settings_read_back_as_the_same_settings(tmp_path: Path) -> None:
    original = Settings(data_dir=Path("/srv/gw"), listen="0.0.0.0:1234", max_item_bytes=99)
    config = write_toml(tmp_path, render_settings(original))
    reread = load_settings(config, {}, {})
    assert reread.listen == original.listen
    assert reread.max_item_bytes == 99
    assert reread.effective_storage_url == original.effective_storage_url
