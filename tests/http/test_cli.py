"""The ``gateway`` command as an operator runs it: a subprocess against a temporary data directory."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest
from starlette.applications import Starlette

from gateway import cli
from gateway.auth.passwords import verify_password
from gateway.settings import Settings
from tests.testing import sqlite_store

REPO = Path(__file__).resolve().parents[2]


def gateway(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "--data-dir", str(data_dir), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )


async def stored_hash(data_dir: Path, name: str) -> str | None:
    async with sqlite_store(data_dir, "gateway.db") as store, store.read() as tx:
        account = await tx.get_account(name)
    return account.password_hash if account else None


async def test_user_lifecycle(tmp_path: Path) -> None:
    added = gateway(tmp_path, "user", "add", "alice", "--quota", "1000", stdin="first pw\n")
    assert added.returncode == 0, added.stderr
    alice_hash = await stored_hash(tmp_path, "alice")
    assert alice_hash is not None
    assert await verify_password(alice_hash, "first pw")

    duplicate = gateway(tmp_path, "user", "add", "alice", stdin="other\n")
    assert duplicate.returncode == 1
    assert duplicate.stderr.strip() == "gateway: account 'alice' already exists"

    assert gateway(tmp_path, "user", "add", "bob", stdin="bob pw\n").returncode == 0
    listed = gateway(tmp_path, "user", "list")
    assert listed.returncode == 0
    assert listed.stdout.splitlines() == ["alice\t0\t1000\t\t", "bob\t0\tunlimited\t\t"]

    changed = gateway(tmp_path, "user", "passwd", "alice", stdin="second pw\r\n")
    assert changed.returncode == 0, changed.stderr
    new_hash = await stored_hash(tmp_path, "alice")
    assert new_hash is not None
    assert await verify_password(new_hash, "second pw")
    assert not await verify_password(new_hash, "first pw")

    deleted = gateway(tmp_path, "user", "del", "bob")
    assert deleted.returncode == 0, deleted.stderr
    assert await stored_hash(tmp_path, "bob") is None
    assert gateway(tmp_path, "user", "list").stdout.splitlines() == ["alice\t0\t1000\t\t"]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("user", "del", "nobody"), "", "gateway: no account 'nobody'"),
        (("user", "passwd", "nobody"), "pw\n", "gateway: no account 'nobody'"),
        (("user", "add", "Alice"), "pw\n", "gateway: invalid account name 'Alice'"),
        (("user", "add", "-dash"), "pw\n", "usage:"),
        (("user", "add", ".hidden"), "pw\n", "gateway: invalid account name '.hidden'"),
        (("user", "add", "a/b"), "pw\n", "gateway: invalid account name 'a/b'"),
        (("user", "add", "x" * 65), "pw\n", "gateway: invalid account name"),
        (("user", "add", "carol"), "", "gateway: empty password"),
        (("user", "add", "carol"), "\n", "gateway: empty password"),
    ],
)
def test_user_errors(tmp_path: Path, args: tuple[str, ...], stdin: str, message: str) -> None:
    result = gateway(tmp_path, *args, stdin=stdin)
    assert result.returncode != 0
    assert result.stderr.startswith(message)


async def test_generated_password_is_printed_once_and_works(tmp_path: Path) -> None:
    result = gateway(tmp_path, "user", "add", "dora", "--generate-password")
    assert result.returncode == 0, result.stderr
    password = result.stdout.strip()
    assert len(password) >= 16
    stored = await stored_hash(tmp_path, "dora")
    assert stored is not None
    assert await verify_password(stored, password)


async def test_demo_creates_account_once_and_prints_urls(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"
    first = gateway(data_dir, "demo", "--base-url", "https://gw.example.org/")
    assert first.returncode == 0, first.stderr
    password = first.stdout.split("password: ", 1)[1].split()[0]
    stored = await stored_hash(data_dir, "demo")
    assert stored is not None
    assert await verify_password(stored, password)
    for url in (
        "https://gw.example.org/dav/",
        "https://gw.example.org/.well-known/caldav",
        "https://gw.example.org/.well-known/carddav",
        "https://gw.example.org/dav/principals/demo/",
        "https://gw.example.org/dav/files/demo/",
    ):
        assert url in first.stdout

    second = gateway(data_dir, "demo")
    assert second.returncode == 0, second.stderr
    assert password not in second.stdout
    assert "gateway user passwd demo" in second.stdout
    assert "http://127.0.0.1:8080/dav/principals/demo/" in second.stdout
    assert await stored_hash(data_dir, "demo") == stored


def test_check_config_ok(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('[server]\nlisten = "0.0.0.0:9999"\n', encoding="utf-8")
    result = gateway(tmp_path, "--config", str(config), "check-config")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("configuration ok\n")
    assert 'listen = "0.0.0.0:9999"' in result.stdout


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[server]\nlisten = "abc"\n', "gateway: server.listen: expected HOST:PORT, got 'abc'"),
        ("[limits]\nmax_item_bytes = -1\n", "gateway: limits.max_item_bytes: expected an integer >= 1, got -1"),
        ("[auth]\nunknown = 1\n", "gateway: auth.unknown: unknown setting"),
    ],
)
def test_check_config_rejects_bad_file(tmp_path: Path, toml: str, message: str) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(toml, encoding="utf-8")
    result = gateway(tmp_path, "--config", str(config), "check-config")
    assert result.returncode == 2
    assert result.stderr.strip() == message


def test_config_errors_from_flags_exit_2(tmp_path: Path) -> None:
    result = gateway(tmp_path, "--storage-url", "postgres://db/gw", "user", "list")
    assert result.returncode == 2
    assert result.stderr.strip() == "gateway: storage.url: unsupported storage url 'postgres://db/gw'"


def test_config_doc_prints_reference(tmp_path: Path) -> None:
    result = gateway(tmp_path, "config-doc")
    assert result.returncode == 0
    assert "| `server.listen` | `GATEWAY_LISTEN` | `--listen` |" in result.stdout


def test_console_script_is_installed(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "gateway"
    if not script.exists():
        pytest.skip("console script not installed (pip install -e .)")
    result = subprocess.run([script, "config-doc"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0
    assert "GATEWAY_DATA_DIR" in result.stdout


def test_serve_runs_uvicorn_with_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    seen: dict[str, object] = {}
    app = Starlette()

    def build_app(settings: Settings) -> Starlette:
        seen["settings"] = settings
        return app

    async def fake_serve(self: uvicorn.Server) -> None:
        seen["config"] = self.config
        self.started = True

    monkeypatch.setitem(sys.modules, "gateway.app", types.SimpleNamespace(build_app=build_app))
    monkeypatch.setattr(uvicorn.Server, "serve", fake_serve)
    argv = ["--data-dir", str(tmp_path), "serve", "--listen", "127.0.0.2:8181", "--log-level", "debug"]
    assert cli.main(argv) == 0
    config = seen["config"]
    assert isinstance(config, uvicorn.Config)
    assert (config.app, config.host, config.port, config.log_level) == (app, "127.0.0.2", 8181, "debug")
    settings = seen["settings"]
    assert isinstance(settings, Settings)
    assert settings.data_dir == tmp_path


def test_addresses_and_display_name(tmp_path: Path) -> None:
    added = gateway(
        tmp_path,
        "user",
        "add",
        "alice",
        "--email",
        "alice@example.org",
        "--alias",
        "a.smith@example.org",
        "--display-name",
        "Alice Smith",
        stdin="pw\n",
    )
    assert added.returncode == 0, added.stderr
    taken = gateway(tmp_path, "user", "add", "eve", "--email", "ALICE@example.org", stdin="pw\n")
    assert taken.returncode == 1 and "belongs to another account" in taken.stderr
    assert gateway(tmp_path, "user", "add", "bob", "--email", "not-an-address", stdin="pw\n").returncode == 2
    changed = gateway(tmp_path, "user", "set", "alice", "--email", "alice@example.net", "--display-name", "A. Smith")
    assert changed.returncode == 0, changed.stderr
    listed = gateway(tmp_path, "user", "list").stdout.splitlines()
    assert listed == ["alice\t0\tunlimited\talice@example.net\tA. Smith"]
