"""Settings → Devices: the camera, microphone and speaker calls use (remembered)."""

import asyncio
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QWidget

if TYPE_CHECKING:
    from app.services.call_service import CallService

#: kind -> (label, accessible name)
_ROWS = {
    "camera": ("&Camera", "Camera for calls"),
    "microphone": ("&Microphone", "Microphone for calls"),
    "speaker": ("S&peaker", "Speaker for calls"),
}


class DevicesSection:
    """Three choices in the settings form; `save()` remembers them for the next call."""

    def __init__(self, calls: "CallService", form: QFormLayout, parent: QWidget) -> None:
        self.calls = calls
        heading = QLabel("<b>Devices</b>", parent)
        form.addRow(heading)
        self.combos: dict[str, QComboBox] = {}
        for kind, (label, name) in _ROWS.items():
            combo = QComboBox(parent)
            combo.setAccessibleName(name)
            form.addRow(label, combo)
            self.combos[kind] = combo
        calls.devicesChanged.connect(self.fill)
        self.fill()
        if not calls.cameras() and not calls.microphones():
            self._task = asyncio.ensure_future(calls.refresh_devices())

    def fill(self) -> None:
        lists = {
            "camera": [(d.id, d.name) for d in self.calls.cameras()],
            "microphone": [(d.id, d.name) for d in self.calls.microphones()],
            "speaker": [("", "The system's default output"), *self.calls.speakers()],
        }
        for kind, entries in lists.items():
            combo = self.combos[kind]
            combo.clear()
            for device_id, name in entries:
                combo.addItem(name, device_id)
            if not entries:
                combo.addItem("None found", None)
            remembered = self.calls.remembered(kind)
            index = combo.findData(remembered) if remembered else -1
            combo.setCurrentIndex(max(0, index))

    def save(self) -> None:
        for kind, combo in self.combos.items():
            device_id = combo.currentData()
            if device_id is not None:
                self.calls.remember_device(kind, device_id or None)
