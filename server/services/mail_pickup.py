"""Delivery into a mail pickup folder: each message one .eml file, written whole or not at all.

The demo (and a site that hands mail to a local MTA's pickup directory) sets `mail_pickup_dir`
instead of an SMTP server. The file is named for the appointment and the invite, so the desktop
of the demo can show "the invite email" of a row; a temporary name then a rename means a reader
never sees half a message.
"""

import os
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from uuid import UUID

from shared.mail_pickup_names import file_name


def deliver(folder: Path, appointment_id: UUID, invite_id: UUID, message: EmailMessage) -> None:
    """Write `message` as `<appointment>-<invite>.eml` in `folder` (made when missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / file_name(appointment_id, invite_id)
    partial = final.with_name(f".{final.name}.part")
    partial.write_bytes(message.as_bytes(policy=SMTP))
    os.replace(partial, final)
