"""Schema versions of the local store and the steps between them (PRAGMA user_version).

Each step is plain DDL, written once and never edited: a store made by any earlier Clinic Desk
walks forward through the steps it has not seen. Add a step; never change one that shipped.
"""

from collections.abc import Callable

from sqlalchemy import Connection, text

from app.store.errors import SchemaTooNew


def _v1_initial(connection: Connection) -> None:
    statements = [
        """CREATE TABLE staff (
            id CHAR(32) NOT NULL PRIMARY KEY,
            name VARCHAR NOT NULL,
            role VARCHAR NOT NULL)""",
        """CREATE TABLE location (
            id CHAR(32) NOT NULL PRIMARY KEY,
            hospital_name VARCHAR NOT NULL,
            address VARCHAR NOT NULL DEFAULT '')""",
        """CREATE TABLE patient (
            id CHAR(32) NOT NULL PRIMARY KEY,
            name VARCHAR NOT NULL,
            date_of_birth DATE,
            mrn VARCHAR NOT NULL DEFAULT '',
            email VARCHAR NOT NULL DEFAULT '',
            phone VARCHAR NOT NULL DEFAULT '')""",
        "CREATE INDEX ix_patient_name ON patient (name COLLATE NOCASE)",
        "CREATE INDEX ix_patient_mrn ON patient (mrn)",
        """CREATE TABLE appointment (
            id CHAR(32) NOT NULL PRIMARY KEY,
            patient_id CHAR(32) NOT NULL REFERENCES patient (id),
            clinician_id CHAR(32) NOT NULL REFERENCES staff (id),
            location_id CHAR(32) REFERENCES location (id),
            start DATETIME NOT NULL,
            duration_minutes INTEGER NOT NULL,
            kind VARCHAR NOT NULL,
            status VARCHAR NOT NULL,
            notes VARCHAR NOT NULL DEFAULT '',
            cancel_reason VARCHAR NOT NULL DEFAULT '',
            version INTEGER NOT NULL DEFAULT 1,
            updated_at DATETIME NOT NULL)""",
        "CREATE INDEX ix_appointment_start ON appointment (start)",
        "CREATE INDEX ix_appointment_clinician_start ON appointment (clinician_id, start)",
        """CREATE TABLE participant (
            appointment_id CHAR(32) NOT NULL REFERENCES appointment (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            name VARCHAR NOT NULL,
            email VARCHAR NOT NULL,
            PRIMARY KEY (appointment_id, position))""",
    ]
    for statement in statements:
        connection.execute(text(statement))


def _v2_sync(connection: Connection) -> None:
    statements = [
        # Changes made here, in the order the user made them, until the server answers them.
        # seq is AUTOINCREMENT so a number is never handed out twice, even after deletes.
        """CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id CHAR(32) NOT NULL UNIQUE,
            intent VARCHAR NOT NULL,
            entity_type VARCHAR NOT NULL,
            entity_id CHAR(32) NOT NULL,
            payload VARCHAR NOT NULL,
            base_version INTEGER,
            sent INTEGER NOT NULL DEFAULT 0,
            created_at DATETIME NOT NULL)""",
        "CREATE INDEX ix_outbox_entity ON outbox (entity_type, entity_id)",
        # Per record: the server's last known state and where the local copy stands with it.
        """CREATE TABLE sync_record (
            entity_type VARCHAR NOT NULL,
            entity_id CHAR(32) NOT NULL,
            server_version INTEGER,
            server_data VARCHAR,
            state VARCHAR NOT NULL DEFAULT 'synced',
            message VARCHAR NOT NULL DEFAULT '',
            generation INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (entity_type, entity_id))""",
        "CREATE INDEX ix_sync_record_state ON sync_record (state)",
        """CREATE TABLE sync_meta (
            key VARCHAR NOT NULL PRIMARY KEY,
            value VARCHAR NOT NULL)""",
    ]
    for statement in statements:
        connection.execute(text(statement))


def _v3_invites(connection: Connection) -> None:
    # How the server's emails to the patient went: "", queued, sent or failed (and why).
    connection.execute(text(
        "ALTER TABLE appointment ADD COLUMN invite_status VARCHAR NOT NULL DEFAULT ''"))
    connection.execute(text(
        "ALTER TABLE appointment ADD COLUMN invite_error VARCHAR NOT NULL DEFAULT ''"))


def _v4_tasks(connection: Connection) -> None:
    connection.execute(text("""CREATE TABLE task (
        id CHAR(32) NOT NULL PRIMARY KEY,
        appointment_id CHAR(32),
        assignee_id CHAR(32) NOT NULL,
        created_by_id CHAR(32),
        due_date DATE,
        text VARCHAR NOT NULL,
        done BOOLEAN NOT NULL DEFAULT 0,
        version INTEGER NOT NULL DEFAULT 1,
        updated_at DATETIME NOT NULL)"""))
    connection.execute(text("CREATE INDEX ix_task_assignee ON task (assignee_id, done)"))


def _v5_patient_lookups(connection: Connection) -> None:
    # The Patients view reads one patient's appointments, and the tasks about them.
    connection.execute(text(
        "CREATE INDEX ix_appointment_patient_start ON appointment (patient_id, start)"))
    connection.execute(text("CREATE INDEX ix_task_appointment ON task (appointment_id)"))


def _v6_patient_lists(connection: Connection) -> None:
    connection.execute(text("""CREATE TABLE patient_list (
        id CHAR(32) NOT NULL PRIMARY KEY,
        name VARCHAR NOT NULL,
        version INTEGER NOT NULL DEFAULT 1,
        updated_at DATETIME NOT NULL)"""))
    # No foreign key to patient: a list may name a patient whose record is still on its way.
    connection.execute(text("""CREATE TABLE patient_list_member (
        list_id CHAR(32) NOT NULL REFERENCES patient_list (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        patient_id CHAR(32) NOT NULL,
        PRIMARY KEY (list_id, position))"""))
    connection.execute(text(
        "CREATE INDEX ix_patient_list_member_patient ON patient_list_member (patient_id)"))


def _v7_mrn_authority_and_list_delete(connection: Connection) -> None:
    connection.execute(text(
        "ALTER TABLE patient ADD COLUMN mrn_authority VARCHAR NOT NULL DEFAULT ''"))
    connection.execute(text(
        "ALTER TABLE patient_list ADD COLUMN archived BOOLEAN NOT NULL DEFAULT 0"))


def _v8_phone_attempts(connection: Connection) -> None:
    # No foreign key to appointment: an attempt may arrive before its appointment does.
    connection.execute(text("""CREATE TABLE phone_attempt (
        id CHAR(32) NOT NULL PRIMARY KEY,
        appointment_id CHAR(32) NOT NULL,
        started_at DATETIME NOT NULL,
        answered_at DATETIME,
        ended_at DATETIME,
        outcome VARCHAR NOT NULL DEFAULT '',
        sip_code INTEGER,
        duration_seconds INTEGER NOT NULL DEFAULT 0,
        caller_id CHAR(32) NOT NULL,
        caller_name VARCHAR NOT NULL,
        number VARCHAR NOT NULL,
        version INTEGER NOT NULL DEFAULT 1,
        updated_at DATETIME NOT NULL)"""))
    connection.execute(text(
        "CREATE INDEX ix_phone_attempt_appointment ON phone_attempt (appointment_id, started_at)"))


#: MIGRATIONS[n] brings a store from version n to version n + 1.
MIGRATIONS: list[Callable[[Connection], None]] = [
    _v1_initial, _v2_sync, _v3_invites, _v4_tasks, _v5_patient_lookups, _v6_patient_lists,
    _v7_mrn_authority_and_list_delete,
    _v8_phone_attempts,
]
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(connection: Connection) -> int:
    return int(connection.execute(text("PRAGMA user_version")).scalar_one())


def migrate(connection: Connection) -> int:
    """Bring the store to SCHEMA_VERSION, each step in its own transaction; return the version."""
    current = schema_version(connection)
    connection.commit()  # end the read's implicit transaction before each step begins its own
    if current > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"This store was written by a newer Clinic Desk (schema {current}; "
            f"this version knows {SCHEMA_VERSION}). Update Clinic Desk."
        )
    for version in range(current, SCHEMA_VERSION):
        with connection.begin():
            MIGRATIONS[version](connection)
            # PRAGMA takes no bound parameters; the value is our own integer.
            connection.execute(text(f"PRAGMA user_version = {version + 1}"))
    return SCHEMA_VERSION
