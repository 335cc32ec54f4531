"""The macOS machine policy: managed preferences written by the MDM profile (a property list)."""

import plistlib
from pathlib import Path
from typing import Any

from app.policy.errors import UnreadablePolicy

DEFAULT_PATH = Path("/Library/Managed Preferences/org.clinicdesk.ClinicDesk.plist")


def read_managed_preferences(path: Path = DEFAULT_PATH) -> dict[str, Any]:
    """The raw keys of the managed preferences; {} when IT set none.

    Raises UnreadablePolicy for a file that exists but is not a property-list dictionary.
    """
    try:
        with path.open("rb") as handle:
            data = plistlib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, plistlib.InvalidFileException, ValueError) as error:
        raise UnreadablePolicy(f"cannot read the managed preferences {path}: {error}") from error
    if not isinstance(data, dict):
        raise UnreadablePolicy(f"{path} holds a {type(data).__name__}, not a dictionary")
    # Profiles add their own bookkeeping keys (PayloadUUID, ...); only ours are policy.
    return {str(key): value for key, value in data.items() if not str(key).startswith("Payload")}
