"""The user's settings (QSettings group "settings") under the machine policy, read and saved."""

import logging
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QObject, QSettings, Signal

from app.policy.effective import EffectiveSetting, effective_settings
from app.policy.keys import POLICY_KEYS, defaults, validate
from app.policy.machine_policy import MachinePolicy
from shared.errors import KnownError

log = logging.getLogger("clinicdesk.settings")

GROUP = "settings"


class SettingsNotSaved(KnownError):
    """The settings file could not be written (read-only profile, disk full)."""


def _from_stored(kind: type, value: object) -> object:
    """A stored value in its setting's type: INI files keep every value as text."""
    if kind is list:
        if value is None:
            return []  # an empty list is written as @Invalid() and read back as None
        return [value] if isinstance(value, str) else value
    if kind is bool and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if kind is int and isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value  # anything else is checked (and, if wrong, ignored) by effective_settings


class SettingsService(QObject):
    """Effective settings = policy > user > default; saving never touches a locked key."""

    #: dict[str, EffectiveSetting] after a save that changed something.
    settingsChanged = Signal(dict)

    def __init__(
        self, policy: MachinePolicy, settings: QSettings, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.policy = policy
        self._settings = settings

    def user_values(self) -> dict[str, Any]:
        """What the user chose (unchecked), for the keys they have set."""
        values: dict[str, Any] = {}
        for name, key in POLICY_KEYS.items():
            path = f"{GROUP}/{name}"
            if self._settings.contains(path):
                values[name] = _from_stored(key.kind, self._settings.value(path))
        return values

    def effective(self) -> dict[str, EffectiveSetting]:
        return effective_settings(
            self.policy.values, self.user_values(), defaults(),
            self.policy.location or "the machine policy",
        )

    def save(self, values: Mapping[str, object]) -> dict[str, EffectiveSetting]:
        """Write the user's changed, unlocked values; return the new effective settings.

        All values are checked before any is written: an invalid one raises
        InvalidPolicyValue and nothing changes. Locked keys are skipped (the policy's value
        stays in force and the user's own earlier choice is kept for when it is lifted).
        An empty server URL clears the user's choice. Raises SettingsNotSaved on a write error.
        """
        current = self.effective()
        writes: dict[str, object | None] = {}  # None: remove the user's value
        for name, value in values.items():
            if name not in POLICY_KEYS:
                raise KeyError(f"{name!r} is not a Clinic Desk setting")
            if current[name].locked:
                continue
            if name == "server_url" and isinstance(value, str) and not value.strip():
                if self._settings.contains(f"{GROUP}/{name}"):
                    writes[name] = None
                continue
            checked = validate(name, value)
            if checked != current[name].value:
                writes[name] = checked
        if not writes:
            return current
        for name, checked in writes.items():
            if checked is None:
                self._settings.remove(f"{GROUP}/{name}")
            else:
                self._settings.setValue(f"{GROUP}/{name}", checked)
        self._settings.sync()
        if self._settings.status() is not QSettings.Status.NoError:
            log.error("settings not saved to %s: %s", self._settings.fileName(),
                      self._settings.status().name)
            raise SettingsNotSaved(
                f"Your settings could not be saved to {self._settings.fileName()}."
            )
        log.info("settings changed: %s", ", ".join(sorted(writes)))
        result = self.effective()
        self.settingsChanged.emit(result)
        return result
