"""The account the hospital's interface acts as: the actor of its audit events and bookings.

Inactive and without a password, so nobody can sign in as it; a clerk, so that if an admin
ever activated it, it could book for nobody.
"""

from datetime import datetime
from uuid import UUID

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from server.models.user import User
from server.services.accounts import find_user
from shared.enums import Role

USERNAME = "hl7-interface"


def ensure(engine: Engine, now: datetime) -> UUID:
    """The interface account's id, created on first use."""
    for _attempt in range(2):
        with Session(engine) as session:
            user = find_user(session, USERNAME)
            if user is not None:
                return user.id
            user = User(
                username=USERNAME,
                full_name="Hospital scheduling interface (HL7)",
                role=Role.CLERK,
                password_hash="!",
                is_active=False,
                created_at=now,
            )
            session.add(user)
            try:
                session.commit()
            except IntegrityError:
                continue  # another process created it meanwhile: read theirs
            return user.id
    raise RuntimeError("the HL7 interface account could not be created")
