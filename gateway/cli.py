"""The ``gateway`` command: serve, manage accounts, check and document configuration.

Exit codes: 0 success, 1 operational error (unknown user, bad name, ...), 2 bad configuration or usage,
3 the server failed to start.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import re
import secrets
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import storage
from gateway.accounts import create_account, delete_account
from gateway.auth.passwords import hash_password
from gateway.settings import ConfigError, Settings, load_settings, render_settings, setting_specs, settings_reference
from protocols.services import directory
from storage.api import AlreadyExists, NotFound, Store

EXIT_OK, EXIT_ERROR, EXIT_CONFIG, EXIT_STARTUP = 0, 1, 2, 3
ACCOUNT_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
DEMO_ACCOUNT = "demo"
GLOBAL_FLAGS = {"data_dir": "DIR", "storage_url": "URL"}
SERVER_FLAGS = {
    "listen": "HOST:PORT",
    "base_url": "URL",
    "log_level": "LEVEL",
    "lmtp_listen": "HOST:PORT",
    "smtp_relay": "HOST:PORT",
}
"""Settings offered as command-line flags (before the subcommand, or after ``serve``/``demo``) -> metavar."""


class CommandError(Exception):
    """A failure to report as one line on stderr with exit status 1."""


def validate_account_name(name: str) -> str:
    """Names become URL path segments (``/dav/files/<name>/``), so only a safe lowercase set is allowed."""
    if not ACCOUNT_NAME.fullmatch(name) or name == directory.SLUG:
        raise CommandError(
            f"invalid account name {name!r}: use 1-64 characters a-z 0-9 . _ - starting with a letter or digit"
            f" ({directory.SLUG!r} is reserved)"
        )
    return name


def read_password() -> str:
    """From a terminal: prompt twice to catch typos. Otherwise: the first line of stdin, without its newline."""
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            raise CommandError("passwords do not match")
    else:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not password:
        raise CommandError("empty password")
    return password


def build_store(settings: Settings) -> Store:
    """The configured backend, not yet opened; an unsupported URL is a configuration error."""
    try:
        return storage.open_store(settings.effective_storage_url)
    except ValueError as exc:
        raise ConfigError(f"storage.url: {exc}") from None


@asynccontextmanager
async def opened_store(settings: Settings) -> AsyncIterator[Store]:
    store = build_store(settings)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def user_add(settings: Settings, args: argparse.Namespace) -> int:
    name = validate_account_name(args.name)
    password = secrets.token_urlsafe(12) if args.generate_password else read_password()
    async with opened_store(settings) as store:
        try:
            await create_account(
                store,
                name,
                hash_password(password),
                args.quota,
                display_name=args.display_name,
                email=args.email,
                aliases=args.alias,
            )
        except AlreadyExists as exc:
            if str(exc) == name:
                raise CommandError(f"account {name!r} already exists") from None
            raise CommandError(f"address {exc} belongs to another account") from None
    print(f"created account {name!r}", file=sys.stderr)
    if args.generate_password:
        print(password)
    return EXIT_OK


async def user_passwd(settings: Settings, args: argparse.Namespace) -> int:
    name = validate_account_name(args.name)
    async with opened_store(settings) as store:
        async with store.read() as tx:
            if await tx.get_account(name) is None:
                raise CommandError(f"no account {name!r}")
        password_hash = hash_password(read_password())
        try:
            async with store.write() as tx:
                await tx.set_password(name, password_hash)
        except NotFound:
            raise CommandError(f"no account {name!r}") from None
    print(f"password of {name!r} changed", file=sys.stderr)
    return EXIT_OK


async def user_del(settings: Settings, args: argparse.Namespace) -> int:
    name = validate_account_name(args.name)
    async with opened_store(settings) as store:
        try:
            await delete_account(store, name)
        except NotFound:
            raise CommandError(f"no account {name!r}") from None
    print(f"deleted account {name!r} and all its data", file=sys.stderr)
    return EXIT_OK


async def user_set(settings: Settings, args: argparse.Namespace) -> int:
    """Change an account's display name and, when ``--email`` is given, its addresses (aliases replaced)."""
    name = validate_account_name(args.name)
    async with opened_store(settings) as store:
        try:
            async with store.write() as tx:
                account = await tx.get_account(name)
                if account is None:
                    raise CommandError(f"no account {name!r}")
                if args.display_name is not None:
                    await tx.set_display_name(account.id, args.display_name or None)
                if args.email is not None:
                    await tx.set_addresses(account.id, args.email or None, args.alias)
                await directory.publish(tx, await tx.get_account_by_id(account.id) or account)
        except AlreadyExists as exc:
            raise CommandError(f"address {exc} belongs to another account") from None
    print(f"updated account {name!r}", file=sys.stderr)
    return EXIT_OK


async def user_list(settings: Settings, args: argparse.Namespace) -> int:
    """One account per line, tab-separated: name, bytes used, quota in bytes (or ``unlimited``), addresses
    (primary first, comma-separated), display name."""
    async with opened_store(settings) as store, store.read() as tx:
        for account in await tx.list_accounts():
            if account.name == directory.SYSTEM_ACCOUNT:
                continue
            quota = "unlimited" if account.quota_bytes is None else account.quota_bytes
            addresses = ",".join(a.address for a in await tx.get_addresses(account.id))
            print(
                f"{account.name}\t{await tx.account_usage(account.id)}\t{quota}\t{addresses}\t"
                f"{account.display_name or ''}"
            )
    return EXIT_OK


def client_urls(settings: Settings, account: str) -> list[tuple[str, str]]:
    base = settings.public_url
    return [
        ("DAV root", f"{base}/dav/"),
        ("CalDAV discovery", f"{base}/.well-known/caldav"),
        ("CardDAV discovery", f"{base}/.well-known/carddav"),
        ("Principal", f"{base}/dav/principals/{account}/"),
        ("Files (WebDAV)", f"{base}/dav/files/{account}/"),
        ("JMAP discovery", f"{base}/.well-known/jmap"),
    ]


async def demo(settings: Settings, args: argparse.Namespace) -> int:
    """Make sure a ``demo`` account exists, then show where clients connect; ``make run`` serves next."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    async with opened_store(settings) as store:
        async with store.read() as tx:
            exists = await tx.get_account(DEMO_ACCOUNT) is not None
        if exists:
            print(f"The {DEMO_ACCOUNT!r} account exists; its password was shown when it was created.")
            print(f"Run `gateway user passwd {DEMO_ACCOUNT}` to set a new one.")
        else:
            password = secrets.token_urlsafe(12)
            await create_account(store, DEMO_ACCOUNT, hash_password(password))
            print(f"Created account {DEMO_ACCOUNT!r} with password: {password}")
            print("Note it now: it is shown only this once.")
    print("\nClient URLs:")
    for label, url in client_urls(settings, DEMO_ACCOUNT):
        print(f"  {label + ':':<20} {url}")
    return EXIT_OK


GRACEFUL_SHUTDOWN_SECONDS = 3


async def serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from gateway.app import build_app

    config = uvicorn.Config(
        build_app(settings),
        host=settings.listen_host,
        port=settings.listen_port,
        log_level=settings.log_level,
        proxy_headers=True,
        loop="auto",
        http="auto",
        lifespan="on",
        # Push streams never end on their own: on shutdown give them a few seconds, then cancel them.
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    server = uvicorn.Server(config)
    print(f"listening on http://{settings.listen}/ (clients: {settings.public_url}/)", file=sys.stderr)
    if settings.lmtp_listen:
        print(f"LMTP delivery listening on {settings.lmtp_listen}", file=sys.stderr)
    await server.serve()
    return EXIT_OK if server.started else EXIT_STARTUP


async def check_config(settings: Settings, args: argparse.Namespace) -> int:
    build_store(settings)
    print("configuration ok")
    print(render_settings(settings))
    return EXIT_OK


def _add_setting_flags(parser: argparse.ArgumentParser, flags: Mapping[str, str]) -> None:
    """Expose settings as flags, named and documented by the settings schema; absent flags stay absent."""
    for spec in setting_specs():
        if spec.name in flags:
            assert spec.cli is not None, spec.name
            parser.add_argument(
                spec.cli,
                dest=spec.name,
                metavar=flags[spec.name],
                default=argparse.SUPPRESS,
                help=f"{spec.doc} [{spec.env}]",
            )


def _add_identity_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--display-name", metavar="TEXT", help="the name others see (directory, invitations)")
    parser.add_argument("--email", metavar="ADDRESS", type=_address, help="primary mail address")
    parser.add_argument(
        "--alias",
        metavar="ADDRESS",
        type=_alias,
        action="append",
        default=[],
        help="another address, or @DOMAIN for the domain's catch-all (repeat)",
    )


def _address(value: str) -> str:
    """A mail address: one @, a non-empty local part and a domain with a dot, nothing blank."""
    local, _, domain = value.strip().rpartition("@")
    if not local or "." not in domain or any(ch.isspace() for ch in value.strip()):
        raise argparse.ArgumentTypeError(f"not a mail address: {value!r}")
    return value.strip()


def _alias(value: str) -> str:
    """An address, or ``@DOMAIN``: the domain's catch-all, which receives the mail no address of it matches."""
    domain = value.strip().removeprefix("@")
    if value.strip().startswith("@") and "@" not in domain and "." in domain and not any(c.isspace() for c in domain):
        return "@" + domain
    return _address(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gateway", description="Groupware gateway: CalDAV, CardDAV, WebDAV, JMAP.")
    parser.add_argument("--config", type=Path, metavar="FILE", help="TOML configuration file [GATEWAY_CONFIG]")
    _add_setting_flags(parser, GLOBAL_FLAGS)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve_parser = commands.add_parser("serve", help="run the HTTP server")
    _add_setting_flags(serve_parser, SERVER_FLAGS)
    serve_parser.set_defaults(handler=serve)

    demo_parser = commands.add_parser("demo", help="create the demo account if missing and print client URLs")
    _add_setting_flags(demo_parser, SERVER_FLAGS)
    demo_parser.set_defaults(handler=demo)

    commands.add_parser("check-config", help="validate the configuration and print it").set_defaults(
        handler=check_config
    )
    commands.add_parser("config-doc", help="print the configuration reference (Markdown)")

    user = commands.add_parser("user", help="manage accounts").add_subparsers(
        dest="user_command", required=True, metavar="ACTION"
    )
    add = user.add_parser("add", help="create an account (password from stdin or a prompt)")
    add.add_argument("name")
    add.add_argument("--quota", type=_non_negative_int, metavar="BYTES", help="storage quota in bytes")
    add.add_argument("--generate-password", action="store_true", help="generate a password and print it once")
    _add_identity_flags(add)
    change = user.add_parser("set", help="change an account's display name or mail addresses")
    change.add_argument("name")
    _add_identity_flags(change)
    change.set_defaults(handler=user_set)
    add.set_defaults(handler=user_add)
    passwd = user.add_parser("passwd", help="set an account's password (from stdin or a prompt)")
    passwd.add_argument("name")
    passwd.set_defaults(handler=user_passwd)
    delete = user.add_parser("del", help="delete an account and all its data")
    delete.add_argument("name")
    delete.set_defaults(handler=user_del)
    user.add_parser("list", help="list accounts: name, bytes used, quota").set_defaults(handler=user_list)
    return parser


def _non_negative_int(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return int(text)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "config-doc":
        print(settings_reference(), end="")
        return EXIT_OK
    overrides = {spec.name: getattr(args, spec.name) for spec in setting_specs() if hasattr(args, spec.name)}
    try:
        settings = load_settings(args.config, os.environ, overrides)
        return asyncio.run(args.handler(settings, args))
    except ConfigError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except CommandError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
