"""Entry point of `clinic-desk-server`: serve, migrate, create-user, seed-demo."""

import argparse
import getpass
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from server.accounts_admin import AccountError, add_user
from server.database import BadDatabaseUrl, create_db_engine
from server.demo import AlreadySeeded, seed_demo
from server.log_setup import setup_server_logging, uvicorn_log_config
from server.schema import is_current, upgrade
from server.security.passwords import Passwords
from server.security.secret_file import with_secret
from server.settings import CONFIG_ENV, ConfigFileMissing, Settings, load_settings
from shared.clock import Clock
from shared.enums import Role

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger("clinicdesk.server")

#: Where `serve --workers N` hands the database to its workers.
DATABASE_ENV = "CLINIC_DESK_DATABASE_URL"

#: uvicorn options of `serve`. No permessage-deflate: realtime events are a few hundred bytes,
#: and compression would cost a zlib context per socket and a compression per socket per event.
#: A WebSocket frame above 1 MiB closes the socket (1009); the hub refuses above 64 KiB itself.
#: No proxy headers: uvicorn would believe X-Forwarded-For from 127.0.0.1 by default; the
#: app decides whom to believe (the trusted_proxies setting, server/security/client_address.py).
UVICORN_OPTIONS: dict[str, Any] = {
    "proxy_headers": False,
    "ws_per_message_deflate": False,
    "ws_max_size": 1_048_576,
    "log_level": "info",
}

#: Exit codes: 0 done, 1 the operation failed, 2 bad usage or configuration.
EXIT_FAILED = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A failure to report in one line, with an exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--database",
        metavar="URL",
        help="sqlite:///PATH or postgresql://USER@HOST:PORT/DB "
        "(default: CLINIC_DESK_DATABASE_URL, else a SQLite file in the data folder)",
    )
    common.add_argument("--config", type=Path, metavar="FILE", help="a TOML settings file")

    parser = argparse.ArgumentParser(
        prog="clinic-desk-server", description="The Clinic Desk hosted backend."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", parents=[common], help="run the HTTP server")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    serve.add_argument(
        "--mllp-port", type=int, metavar="N",
        help="also accept HL7 v2 messages over MLLP on this port (see docs/integration.md)",
    )
    serve.add_argument(
        "--mllp-host", metavar="ADDRESS", help="address of the MLLP listener (default 127.0.0.1)"
    )
    serve.add_argument(
        "--workers", type=int, default=1, metavar="N",
        help="server processes sharing the port (more than 1 needs PostgreSQL; default 1)",
    )
    serve.add_argument(
        "--no-migrate", action="store_true", help="refuse to start on an old schema instead"
    )
    commands.add_parser("migrate", parents=[common], help="bring the database schema up to date")
    create = commands.add_parser("create-user", parents=[common], help="add a user account")
    create.add_argument("--username", required=True)
    create.add_argument("--full-name", default="")
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    commands.add_parser("seed-demo", parents=[common], help="fill an empty database with a demo")
    client = commands.add_parser(
        "add-client", parents=[common],
        help="add a FHIR system client (OAuth2 client credentials); prints its secret once",
    )
    client.add_argument("--client-id", required=True, help="e.g. pas-epic")
    client.add_argument("--name", default="", help="what the system is, for the audit log")
    client.add_argument(
        "--scopes", required=True,
        help='space-separated, e.g. "system/Appointment.rs system/Appointment.cu"',
    )
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    try:
        return load_settings(
            args.config,
            database_url=args.database,
            mllp_port=getattr(args, "mllp_port", None),
            mllp_host=getattr(args, "mllp_host", None),
        )
    except ConfigFileMissing as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise CliError(f"bad settings: {problems}", EXIT_USAGE) from exc


def _engine(settings: Settings) -> Engine:
    try:
        return create_db_engine(settings.database_url)
    except BadDatabaseUrl as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc


def _migrated_engine(settings: Settings) -> Engine:
    engine = _engine(settings)
    upgrade(engine)
    return engine


def _passwords(settings: Settings) -> Passwords:
    return Passwords(
        settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
    )


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from server.app import create_app

    engine = _engine(settings)
    _check_workers(args.workers, engine, settings)
    if args.no_migrate:
        if not is_current(engine):
            raise CliError("the database schema is not current: run clinic-desk-server migrate")
    else:
        upgrade(engine)
    if settings.environment == "development":
        log.warning("development mode: for a real clinic set CLINIC_DESK_ENVIRONMENT=production")
    try:
        settings = with_secret(settings)
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot keep the signing secret: {exc}") from exc
    if args.workers > 1:
        engine.dispose()
        # Each worker builds its app from the environment (worker_app): the same settings.
        os.environ[DATABASE_ENV] = settings.database_url
        if args.config is not None:
            os.environ[CONFIG_ENV] = str(args.config.resolve())
        uvicorn.run(
            "server.main:worker_app",
            factory=True,
            workers=args.workers,
            host=args.host,
            port=args.port,
            log_config=uvicorn_log_config(),
            **UVICORN_OPTIONS,
        )
        return 0
    uvicorn.run(
        create_app(settings, engine),
        host=args.host,
        port=args.port,
        log_config=uvicorn_log_config(),
        **UVICORN_OPTIONS,
    )
    return 0


def _check_workers(workers: int, engine: Engine, settings: Settings) -> None:
    """More than one process needs PostgreSQL (shared presence, calls and NOTIFY) and no
    MLLP port (one listener per port)."""
    if workers < 1:
        raise CliError("--workers must be at least 1", EXIT_USAGE)
    if workers == 1:
        return
    if engine.dialect.name != "postgresql":
        raise CliError(
            f"--workers {workers} needs PostgreSQL: a SQLite database is served by one process "
            "(who is waiting and who holds a call live in its memory). Use --workers 1, or "
            "--database postgresql://USER@HOST:PORT/DB (see docs/deploy.md)",
            EXIT_USAGE,
        )
    if settings.mllp_port is not None:
        raise CliError(
            "--mllp-port needs --workers 1 (one HL7 listener per port): run the listener in a "
            "server process of its own",
            EXIT_USAGE,
        )


def worker_app() -> "FastAPI":
    """One process of `serve --workers N`: the settings the parent put in the environment."""
    from server.app import create_app

    setup_server_logging()
    return create_app(load_settings())


def _create_user(args: argparse.Namespace, settings: Settings) -> int:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise CliError("the passwords differ")
    engine = _migrated_engine(settings)
    with Session(engine) as session:
        try:
            user = add_user(
                session,
                _passwords(settings),
                args.username,
                args.full_name,
                Role(args.role),
                password,
                Clock().now(),
            )
        except AccountError as exc:
            raise CliError(f"cannot create the user: {exc}") from exc
        session.commit()
        sys.stdout.write(f"created {user.role} {user.username} ({user.id})\n")
    return 0


def _seed_demo(settings: Settings) -> int:
    if settings.environment == "production":
        raise CliError("seed-demo is refused in production mode", EXIT_USAGE)
    engine = _migrated_engine(settings)
    with Session(engine) as session:
        try:
            accounts = seed_demo(session, _passwords(settings), Clock().now())
        except AlreadySeeded as exc:
            raise CliError(str(exc)) from exc
        session.commit()
    sys.stdout.write("demo clinic created; sign in with:\n")
    for account in accounts:
        sys.stdout.write(f"  {account.role.value:<10} {account.username:<8} {account.password}\n")
    return 0


def _add_client(args: argparse.Namespace, settings: Settings) -> int:
    from server.fhir.clients import ClientError, add_client

    engine = _migrated_engine(settings)
    with Session(engine, expire_on_commit=False) as session:
        try:
            new = add_client(session, args.client_id, args.name, args.scopes, Clock().now())
        except ClientError as exc:
            raise CliError(f"cannot create the client: {exc}") from exc
        session.commit()
    sys.stdout.write(
        f"created client {new.client.client_id} with scopes {new.client.scopes}\n"
        f"client secret (shown once, keep it safe): {new.secret}\n"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    setup_server_logging()
    try:
        settings = _settings(args)
        if args.command == "serve":
            return _serve(args, settings)
        if args.command == "migrate":
            revision = upgrade(_engine(settings))
            sys.stdout.write(f"database at revision {revision}\n")
            return 0
        if args.command == "create-user":
            return _create_user(args, settings)
        if args.command == "add-client":
            return _add_client(args, settings)
        return _seed_demo(settings)
    except CliError as exc:
        sys.stderr.write(f"clinic-desk-server: {exc}\n")
        return exc.code
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        sys.stderr.write(f"clinic-desk-server: database error: {reason}\n")
        return EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
