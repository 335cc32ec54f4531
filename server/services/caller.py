"""Who is asking, from where, and the server time of the request."""

from dataclasses import dataclass
from datetime import datetime

from server.models.user import User


@dataclass(frozen=True, slots=True)
class Caller:
    user: User
    address: str
    now: datetime
