"""Who is asking, from where, and the server time of the request."""

from dataclasses import dataclass
from datetime import datetime

from server.models.user import User


@dataclass(frozen=True, slots=True)
class Caller:
    user: User
    address: str
    now: datetime
    #: A hospital system (server/integration/): it books for any clinician, and what it books
    #: is not invited until staff say so ("scheduled, not invited").
    system: bool = False
