"""The Linux machine policy: /etc/clinic-desk/policy.toml (CLINIC_DESK_POLICY_FILE overrides)."""

import logging
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.policy.errors import UnreadablePolicy

log = logging.getLogger("clinicdesk.policy")

DEFAULT_PATH = Path("/etc/clinic-desk/policy.toml")
PATH_VARIABLE = "CLINIC_DESK_POLICY_FILE"


def policy_path(env: Mapping[str, str]) -> Path:
    override = env.get(PATH_VARIABLE, "").strip()
    return Path(override) if override else DEFAULT_PATH


def read_policy_file(path: Path) -> dict[str, Any]:
    """The raw key/values of the TOML file; {} when there is no file (no policy set).

    Raises UnreadablePolicy when the file exists but cannot be read or is not valid TOML.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise UnreadablePolicy(f"cannot read {path}: {error.strerror or error}") from error
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise UnreadablePolicy(f"{path} is not valid TOML: {error}") from error
