"""Read this machine's policy from the platform's place, checked key by key; never raises."""

import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.policy import linux_file, macos_plist, windows_registry
from app.policy.checked import checked_policy
from app.policy.errors import UnreadablePolicy

log = logging.getLogger("clinicdesk.policy")


@dataclass(frozen=True, slots=True)
class MachinePolicy:
    """The valid policy values and where they were read (shown next to a locked field)."""

    values: dict[str, Any] = field(default_factory=dict)
    location: str = ""


def policy_location(platform: str, env: Mapping[str, str]) -> str:
    if platform == "win32":
        return f"HKLM\\{windows_registry.KEY_PATH}"
    if platform == "darwin":
        return str(macos_plist.DEFAULT_PATH)
    return str(linux_file.policy_path(env))


def load_machine_policy(
    platform: str = sys.platform,
    env: Mapping[str, str] | None = None,
    macos_path: Path = macos_plist.DEFAULT_PATH,
) -> MachinePolicy:
    """The policy IT set on this machine. An unreadable source is logged and treated as none."""
    environment = os.environ if env is None else env
    location = str(macos_path) if platform == "darwin" else policy_location(platform, environment)
    try:
        if platform == "win32":
            raw = windows_registry.read_registry_policy()
        elif platform == "darwin":
            raw = macos_plist.read_managed_preferences(macos_path)
        else:
            raw = linux_file.read_policy_file(linux_file.policy_path(environment))
    except UnreadablePolicy as error:
        log.error("machine policy ignored: %s", error)
        return MachinePolicy({}, location)
    return MachinePolicy(checked_policy(raw, location), location)
