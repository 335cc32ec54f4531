"""The signing secret when none is configured: made at random on first run, kept with the database.

Production refuses to start without a configured secret (settings.py); everywhere else a fresh
install gets its own secret instead of a public default that would let anyone forge tokens. It
lives beside a SQLite file (`<database>.secret-key`), or for a database server in the data folder,
readable by its owner only (mode 600).
"""

import hashlib
import logging
import os
import secrets
import tempfile
from pathlib import Path

import platformdirs
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from server.settings import Settings

log = logging.getLogger("clinicdesk.server")

#: Bytes of randomness in a generated secret (384 bits).
SECRET_BYTES = 48


def secret_path(database_url: str) -> Path | None:
    """Where the generated secret of this database lives; None for an in-memory database."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return None
        database = Path(url.database)
        return database.with_name(database.name + ".secret-key")
    # One secret per database server and database (the password is no part of the name).
    where = url.render_as_string(hide_password=True)
    name = hashlib.sha256(where.encode()).hexdigest()[:16]
    folder = Path(platformdirs.user_data_dir("ClinicDeskServer", appauthor=False))
    return folder / f"secret-key-{name}"


def _read(path: Path) -> str:
    if path.stat().st_mode & 0o077:
        log.warning("%s was readable by others: now by its owner only", path)
        path.chmod(0o600)
    secret = path.read_text(encoding="ascii").strip()
    if len(secret) < 32:
        raise ValueError(f"{path} does not hold a secret: delete it to make a new one")
    return secret


def load_or_create(path: Path) -> str:
    """The secret in `path`, made first if missing; safe when several processes start at once."""
    if path.exists():
        return _read(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret-")  # mode 600
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(secrets.token_urlsafe(SECRET_BYTES) + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)  # never replaces: the first process to get here wins
            log.info("made a signing secret for this database: %s", path)
        except FileExistsError:
            pass
    finally:
        os.unlink(temporary)
    return _read(path)


def with_secret(settings: Settings) -> Settings:
    """`settings` with a signing secret: the configured one, else this database's own."""
    if settings.secret_key is not None:
        return settings
    path = secret_path(settings.database_url)
    secret = secrets.token_urlsafe(SECRET_BYTES) if path is None else load_or_create(path)
    return settings.model_copy(update={"secret_key": SecretStr(secret)})
