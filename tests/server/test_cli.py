"""The `clinic-desk-server` command: migrate, create-user, seed-demo, and serve on loopback."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt

from server.schema import head_revision
from tests.server.mllp_helpers import ack_code, sender, siu
from tests.server.postgres import free_port
from tests.server.server_process import cli_env, create_user, empty_database, run_cli, served


def test_migrate_create_user_and_seed_demo(database_url: str) -> None:
    url = empty_database(database_url)
    migrated = run_cli("migrate", "--database", url)
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.strip() == f"database at revision {head_revision()}"

    created = create_user(url, "Admin", "admin", "a long enough password")
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("created admin admin (")
    taken = create_user(url, "admin", "clerk", "a long enough password")
    assert taken.returncode == 1
    assert "the username 'admin' is taken" in taken.stderr
    weak = create_user(url, "x", "clerk", "short")
    assert weak.returncode == 1
    assert "at least 12 characters" in weak.stderr

    seeded = run_cli("seed-demo", "--database", url)
    assert seeded.returncode == 1  # the database has a user now
    assert "only fills an empty one" in seeded.stderr


def test_seed_demo_fills_anempty_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    seeded = run_cli("seed-demo", "--database", url)
    assert seeded.returncode == 0, seeded.stderr
    lines = seeded.stdout.splitlines()[1:]
    assert [line.split()[:2] for line in lines] == [
        ["admin", "admin"],
        ["clerk", "clerk"],
        ["clinician", "ng"],
        ["clinician", "okafor"],
    ]


def test_usage_and_configuration_errors_exit_2(tmp_path: Path) -> None:
    assert run_cli("migrate", "--database", "mysql://x/y").returncode == 2
    assert run_cli("migrate", "--config", str(tmp_path / "none.toml")).returncode == 2
    assert run_cli("frobnicate").returncode == 2
    production = cli_env() | {"CLINIC_DESK_ENVIRONMENT": "production"}
    refused = run_cli("serve", "--database", f"sqlite:///{tmp_path / 'p.db'}", env=production)
    assert refused.returncode == 2
    assert "production mode needs its own secret" in refused.stderr


def test_serve_refuses_several_workers_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'one.db'}"
    refused = run_cli("serve", "--database", url, "--workers", "3")
    assert refused.returncode == 2
    assert refused.stderr.startswith(
        "clinic-desk-server: --workers 3 needs PostgreSQL: a SQLite database is served by one "
        "process"
    ), refused.stderr
    assert not (tmp_path / "one.db").exists()  # refused before touching the database
    assert run_cli("serve", "--database", url, "--workers", "0").returncode == 2


def test_serve_answers_on_loopback(database_url: str) -> None:
    url = empty_database(database_url)
    created = create_user(url, "ng", "clinician", "a long enough password")
    assert created.returncode == 0, created.stderr
    with served(url) as base:
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok", "database": "ok"}
        login = httpx.post(
            f"{base}/auth/login", json={"username": "ng", "password": "a long enough password"}
        )
        assert login.status_code == 200
        me = httpx.get(
            f"{base}/users/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
        )
        assert me.json()["role"] == "clinician"
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "Clinic Desk server"


def test_the_servers_log_keeps_patient_identifiers_out(tmp_path: Path) -> None:
    output: list[str] = []
    with served(f"sqlite:///{tmp_path / 'log.sqlite3'}", output=output) as base:
        # A link an email client decorated: the request line lands in uvicorn's access log.
        page = httpx.get(f"{base}/join?phone=07700900123&mail=ada@example.org&n=12")
        assert page.status_code == 200
    [log] = output
    assert "GET /join?phone=[redacted]&mail=[redacted]&n=[redacted]" in log
    assert "07700900123" not in log and "ada@example.org" not in log


def test_serve_makes_its_own_secret_and_keeps_it_across_restarts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    created = create_user(url, "ng", "clinician", "a long enough password")
    assert created.returncode == 0, created.stderr
    credentials = {"username": "ng", "password": "a long enough password"}
    with served(url) as base:
        access = httpx.post(f"{base}/auth/login", json=credentials).json()["access_token"]
    secret = tmp_path / "clinic.sqlite3.secret-key"
    assert secret.stat().st_mode & 0o777 == 0o600
    # A token signed with the old public default secret of development mode must not pass.
    forged = jwt.encode(
        jwt.decode(access, options={"verify_signature": False}),
        "clinic-desk-development-secret-change-me",
        algorithm="HS256",
    )
    with served(url) as base:
        me = httpx.get(f"{base}/users/me", headers={"Authorization": f"Bearer {access}"})
        assert me.status_code == 200  # signed by the same secret after a restart
        refused = httpx.get(f"{base}/users/me", headers={"Authorization": f"Bearer {forged}"})
        assert refused.status_code == 401


def test_serve_with_an_mllp_port_books_from_hl7(database_url: str) -> None:
    url = empty_database(database_url)
    assert create_user(url, "ng", "clinician", "a long enough password").returncode == 0
    mllp_port = free_port()
    start = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y%m%d") + "100000+0000"
    clinicians = {"CLINIC_DESK_HL7_CLINICIANS": json.dumps({"D100": "ng"})}
    with served(url, "--mllp-port", str(mllp_port), env=clinicians), sender(mllp_port) as hl7:
        ack = hl7.send(siu("S12", "CLI1", start=start))
        assert ack_code(ack) == "AA", str(ack)
