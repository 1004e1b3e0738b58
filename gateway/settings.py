"""The one settings schema: every knob, its default, its TOML key, env var and CLI flag, documented here.

Sources, in increasing priority: field defaults, a TOML file (``--config FILE`` or ``GATEWAY_CONFIG``),
environment variables ``GATEWAY_<FIELD>`` and CLI flags. Each value is checked where it enters, so an error
names the key exactly as the operator wrote it (``server.listen``, ``GATEWAY_LISTEN`` or ``--listen``).
"""

from __future__ import annotations

import socket
import tomllib
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

MIB = 1024 * 1024
ENV_PREFIX = "GATEWAY_"
CONFIG_ENV = "GATEWAY_CONFIG"
LOG_LEVELS = ("debug", "info", "warning", "error")


class ConfigError(Exception):
    """Invalid configuration; the message starts with the offending key."""


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (IPv6 hosts in brackets) -> ``(host, port)``; raises ValueError."""
    host, sep, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not (port.isascii() and port.isdigit()) or int(port) > 65535:
        raise ValueError(f"expected HOST:PORT, got {value!r}")
    return host, int(port)


def _check_listen(value: str) -> str:
    parse_listen(value)
    return value


def _check_base_url(value: str) -> str:
    scheme, sep, rest = value.partition("://")
    if scheme not in ("http", "https") or not sep or not rest.strip("/"):
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
    return value.rstrip("/")


def _check_storage_url(value: str) -> str:
    scheme, sep, rest = value.partition("://")
    if not scheme or not sep or not rest:
        raise ValueError(f"expected a URL such as sqlite:///var/lib/gateway/gateway.db, got {value!r}")
    return value


def _check_log_level(value: str) -> str:
    if value.lower() not in LOG_LEVELS:
        raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}, got {value!r}")
    return value.lower()


SMTP_TLS_MODES = ("auto", "starttls", "implicit", "off")


def _check_smtp_tls(value: str) -> str:
    if value.lower() not in SMTP_TLS_MODES:
        raise ValueError(f"expected one of {', '.join(SMTP_TLS_MODES)}, got {value!r}")
    return value.lower()


def _at_least(minimum: int) -> Callable[[int], int]:
    def check(value: int) -> int:
        if value < minimum:
            raise ValueError(f"expected an integer >= {minimum}, got {value}")
        return value

    return check


def _meta(
    toml: str, doc: str, *, cli: str | None = None, check: Callable[[Any], object] | None = None
) -> dict[str, Any]:
    """Field metadata: the documentation and the names a setting is known by in each source."""
    return {"doc": doc, "toml": toml, "cli": cli, "check": check}


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(
        default=Path("data"),
        metadata=_meta("server.data_dir", "Directory holding the database and other state.", cli="--data-dir"),
    )
    listen: str = field(
        default="127.0.0.1:8080",
        metadata=_meta(
            "server.listen", "Address the HTTP server binds, `HOST:PORT`.", cli="--listen", check=_check_listen
        ),
    )
    base_url: str | None = field(
        default=None,
        metadata=_meta(
            "server.base_url",
            "Public URL prefix clients use (behind a reverse proxy); unset means `http://<listen>`.",
            cli="--base-url",
            check=_check_base_url,
        ),
    )
    log_level: str = field(
        default="info",
        metadata=_meta(
            "server.log_level", f"Log verbosity: {', '.join(LOG_LEVELS)}.", cli="--log-level", check=_check_log_level
        ),
    )
    storage_url: str | None = field(
        default=None,
        metadata=_meta(
            "storage.url",
            "Storage backend URL; unset means `sqlite://<data_dir>/gateway.db`.",
            cli="--storage-url",
            check=_check_storage_url,
        ),
    )
    max_request_bytes: int = field(
        default=50 * MIB,
        metadata=_meta("limits.max_request_bytes", "Largest accepted request body, in bytes.", check=_at_least(1)),
    )
    max_item_bytes: int = field(
        default=20 * MIB,
        metadata=_meta(
            "limits.max_item_bytes", "Largest stored item (file, event, contact), in bytes.", check=_at_least(1)
        ),
    )
    auth_cache_seconds: int = field(
        default=60,
        metadata=_meta(
            "auth.cache_seconds", "How long a verified password is remembered (0 disables).", check=_at_least(0)
        ),
    )
    auth_max_failures: int = field(
        default=5,
        metadata=_meta(
            "auth.max_failures", "Failed logins per account or client address before a lockout.", check=_at_least(1)
        ),
    )
    auth_failure_window_seconds: int = field(
        default=300,
        metadata=_meta("auth.failure_window_seconds", "Window in which failed logins are counted.", check=_at_least(1)),
    )
    auth_lockout_seconds: int = field(
        default=60,
        metadata=_meta("auth.lockout_seconds", "How long a locked account or address is refused.", check=_at_least(1)),
    )
    lock_max_timeout_seconds: int = field(
        default=3600,
        metadata=_meta("locks.max_timeout_seconds", "Upper bound on a WebDAV LOCK timeout.", check=_at_least(1)),
    )
    default_calendar_name: str = field(
        default="Calendar",
        metadata=_meta("calendars.default_calendar", "Name of the event calendar made at first login; empty for none."),
    )
    default_tasklist_name: str = field(
        default="Tasks",
        metadata=_meta("calendars.default_tasklist", "Name of the task list made at first login; empty for none."),
    )
    default_addressbook_name: str = field(
        default="Contacts",
        metadata=_meta("contacts.default_addressbook", "Name of the address book made at first login; empty for none."),
    )

    mail_domain: str | None = field(
        default=None,
        metadata=_meta(
            "mail.domain", "Domain for generated Message-IDs and mail identities; unset means this host's name."
        ),
    )

    lmtp_listen: str | None = field(
        default=None,
        metadata=_meta(
            "mail.lmtp_listen",
            "Address the LMTP server binds for delivery from the MTA, `HOST:PORT`; unset means no LMTP server.",
            cli="--lmtp-listen",
            check=_check_listen,
        ),
    )
    max_message_bytes: int = field(
        default=50 * MIB,
        metadata=_meta(
            "mail.max_message_bytes",
            "Largest message accepted over LMTP or sent by EmailSubmission.",
            check=_at_least(1),
        ),
    )
    smtp_relay: str | None = field(
        default=None,
        metadata=_meta(
            "smtp.relay",
            "The MTA that sends outgoing mail (JMAP EmailSubmission, vacation replies), `HOST:PORT`; unset means "
            "sending is refused.",
            cli="--smtp-relay",
            check=_check_listen,
        ),
    )
    smtp_tls: str = field(
        default="auto",
        metadata=_meta(
            "smtp.tls",
            "TLS to the relay: auto (STARTTLS when offered), starttls (required), implicit (TLS from the start), off.",
            check=_check_smtp_tls,
        ),
    )
    smtp_username: str | None = field(
        default=None, metadata=_meta("smtp.username", "User name for SMTP AUTH at the relay; unset means no AUTH.")
    )
    smtp_password: str | None = field(
        default=None, metadata=_meta("smtp.password", "Password for SMTP AUTH at the relay.")
    )

    @property
    def effective_mail_domain(self) -> str:
        return self.mail_domain or socket.getfqdn() or "localhost"

    @property
    def effective_storage_url(self) -> str:
        """The storage URL to open: ``storage_url`` or the SQLite file in ``data_dir`` (made absolute)."""
        return self.storage_url or f"sqlite://{self.data_dir.absolute()}/gateway.db"

    @property
    def listen_host(self) -> str:
        return parse_listen(self.listen)[0]

    @property
    def listen_port(self) -> int:
        return parse_listen(self.listen)[1]

    @property
    def public_url(self) -> str:
        """Where clients reach the server, without trailing slash; wildcard binds are shown as localhost."""
        if self.base_url:
            return self.base_url
        host = self.listen_host
        if host in ("0.0.0.0", "::"):
            host = "localhost"
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.listen_port}"


@dataclass(frozen=True)
class SettingSpec:
    """How one field is named in each source, for parsing, CLI flags and the reference table."""

    name: str
    type: object
    default: object
    doc: str
    toml: str
    env: str
    cli: str | None
    check: Callable[[Any], object] | None


def setting_specs() -> tuple[SettingSpec, ...]:
    hints = typing.get_type_hints(Settings)
    return tuple(
        SettingSpec(
            name=f.name,
            type=hints[f.name],
            default=f.default,
            doc=f.metadata["doc"],
            toml=f.metadata["toml"],
            env=ENV_PREFIX + f.name.upper(),
            cli=f.metadata["cli"],
            check=f.metadata["check"],
        )
        for f in fields(Settings)
    )


def _base_type(spec: SettingSpec) -> type:
    """``str | None`` -> ``str``; plain types unchanged."""
    args = [arg for arg in typing.get_args(spec.type) if arg is not type(None)]
    return args[0] if args else typing.cast(type, spec.type)


def _from_text(spec: SettingSpec, text: str) -> object:
    """Convert an env var or CLI string; an empty string unsets an optional setting."""
    if text == "" and type(None) in typing.get_args(spec.type):
        return None
    target = _base_type(spec)
    if target is int:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"expected an integer, got {text!r}") from None
    if target is Path and not text:
        raise ValueError("expected a path, got ''")
    return target(text)


def _type_error(spec: SettingSpec, value: object) -> ValueError:
    expected = "an integer" if _base_type(spec) is int else "a string"
    return ValueError(f"expected {expected}, got {value!r}")


def _from_toml(spec: SettingSpec, value: object) -> object:
    if isinstance(value, str) and _base_type(spec) is not int:
        return _from_text(spec, value)
    if isinstance(value, int) and not isinstance(value, bool) and _base_type(spec) is int:
        return value
    raise _type_error(spec, value)


def _from_override(spec: SettingSpec, value: object) -> object:
    """CLI flags arrive as strings; programmatic overrides may already carry the field's type."""
    if isinstance(value, str):
        return _from_text(spec, value)
    if isinstance(value, _base_type(spec)) and not isinstance(value, bool):
        return value
    raise _type_error(spec, value)


def _accept(spec: SettingSpec, key: str, convert: Callable[[SettingSpec, Any], object], raw: object) -> object:
    """Convert and check one incoming value, turning any complaint into a ConfigError naming ``key``."""
    try:
        value = convert(spec, raw)
        return spec.check(value) if spec.check is not None and value is not None else value
    except ValueError as exc:
        raise ConfigError(f"{key}: {exc}") from None


def _read_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def _toml_entries(document: Mapping[str, object]) -> Iterator[tuple[str, object]]:
    """Flatten ``[section] key = value`` to ``("section.key", value)``, rejecting anything not a table."""
    for section, table in document.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{section}: unknown setting (settings live in sections such as [server])")
        for key, value in table.items():
            yield f"{section}.{key}", value


def load_settings(
    config_file: Path | None = None, env: Mapping[str, str] | None = None, overrides: Mapping[str, object] | None = None
) -> Settings:
    """Merge defaults < TOML file < ``GATEWAY_*`` env vars < ``overrides`` (field name -> value, e.g. CLI flags).

    ``config_file`` falls back to ``$GATEWAY_CONFIG``. Unknown ``GATEWAY_*`` variables are ignored (the
    environment is shared, e.g. CGI's ``GATEWAY_INTERFACE``); unknown TOML keys and override names are errors.
    """
    env = env or {}
    specs = setting_specs()
    values: dict[str, Any] = {}
    if config_file is None and env.get(CONFIG_ENV):
        config_file = Path(env[CONFIG_ENV])
    if config_file is not None:
        by_toml = {spec.toml: spec for spec in specs}
        for key, raw in _toml_entries(_read_toml(config_file)):
            if key not in by_toml:
                raise ConfigError(f"{key}: unknown setting")
            values[by_toml[key].name] = _accept(by_toml[key], key, _from_toml, raw)
    for spec in specs:
        if spec.env in env:
            values[spec.name] = _accept(spec, spec.env, _from_text, env[spec.env])
    by_name = {spec.name: spec for spec in specs}
    for name, raw in (overrides or {}).items():
        if name not in by_name:
            raise ConfigError(f"{name}: unknown setting")
        spec = by_name[name]
        values[name] = _accept(spec, spec.cli or name, _from_override, raw)
    return Settings(**values)


def _toml_value(value: object) -> str:
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_settings(settings: Settings) -> str:
    """The effective settings as a TOML document (unset optional values as comments)."""
    sections: dict[str, list[str]] = {}
    for spec in setting_specs():
        section, key = spec.toml.split(".", 1)
        value = settings.effective_storage_url if spec.name == "storage_url" else getattr(settings, spec.name)
        line = f"# {key} is unset" if value is None else f"{key} = {_toml_value(value)}"
        sections.setdefault(section, []).append(line)
    return "\n\n".join("\n".join([f"[{section}]", *lines]) for section, lines in sections.items())


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def settings_reference() -> str:
    """Markdown reference of every setting: the single place where configuration is documented."""
    rows = [
        "# Configuration reference",
        "",
        "Sources, lowest priority first: defaults, the TOML file given by `--config FILE` or `$GATEWAY_CONFIG`, "
        "environment variables, command-line flags. An empty optional environment variable unsets the setting.",
        "",
        "| TOML key | Environment variable | CLI flag | Default | Description |",
        "|---|---|---|---|---|",
    ]
    for spec in setting_specs():
        default = "(unset)" if spec.default is None else f"`{spec.default}`"
        cli = f"`{spec.cli}`" if spec.cli else ""
        rows.append(f"| `{spec.toml}` | `{spec.env}` | {cli} | {default} | {_cell(spec.doc)} |")
    return "\n".join(rows) + "\n"
