"""The sync tests' clinic: its database migrated by the CLI and seeded with who is who (the
server itself runs as tests/server/server_process.LiveServer)."""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlmodel import Session

from server.accounts_admin import add_user
from server.database import create_db_engine
from server.models.access import Assignment
from server.models.location import Location
from server.security.passwords import Passwords
from shared.enums import Role
from tests.server.server_process import run_cli

PASSWORD = "correct horse battery staple"


@dataclass
class LiveClinic:
    """Who is who on the live server: a clinician (ng), a clerk assigned to ng, an admin."""

    ids: dict[str, uuid.UUID] = field(default_factory=dict)


def seed_clinic(database_url: str, extra_clinicians: tuple[str, ...] = ()) -> LiveClinic:
    migrated = run_cli("migrate", "--database", database_url)
    assert migrated.returncode == 0, migrated.stderr
    clinic = LiveClinic()
    engine = create_db_engine(database_url)
    now = datetime.now(UTC)
    with Session(engine) as session:
        passwords = Passwords(1, 8, 1)
        for username, full_name, role in [
            ("admin", "Alex Admin", Role.ADMIN),
            ("clerk", "Sam Clerk", Role.CLERK),
            ("ng", "Dr Ng", Role.CLINICIAN),
            *[(name, f"Dr {name.title()}", Role.CLINICIAN) for name in extra_clinicians],
        ]:
            user = add_user(session, passwords, username, full_name, role, PASSWORD, now)
            clinic.ids[username] = user.id
        session.add(Assignment(clerk_id=clinic.ids["clerk"], clinician_id=clinic.ids["ng"]))
        location = Location(hospital_name="St Mary's Hospital", address="Praed Street",
                            time_zone="Europe/London")
        session.add(location)
        session.flush()
        clinic.ids["location"] = location.id
        session.commit()
    engine.dispose()
    return clinic
