"""Reading the demo's mail folder: the newest invite written for an appointment."""

from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from uuid import UUID

from shared.mail_pickup_names import pattern


@dataclass(frozen=True, slots=True)
class InviteEmail:
    path: Path
    subject: str
    to: str
    html: str
    text: str


def invite_files(folder: Path, appointment_id: UUID) -> list[Path]:
    """The messages written for an appointment, oldest first."""
    if not folder.is_dir():
        return []
    found = folder.glob(pattern(appointment_id))
    return sorted(found, key=lambda path: (path.stat().st_mtime_ns, path.name))


def _part(message: EmailMessage, kind: str) -> str:
    body = message.get_body(preferencelist=(kind,))
    return "" if body is None else str(body.get_content())


def newest_invite(folder: Path, appointment_id: UUID) -> InviteEmail | None:
    files = invite_files(folder, appointment_id)
    if not files:
        return None
    path = files[-1]
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(message, EmailMessage)
    return InviteEmail(path, str(message["Subject"] or ""), str(message["To"] or ""),
                       _part(message, "html"), _part(message, "plain"))
