"""The phone call's keypad: twelve keys (1-9, *, 0, #) that send DTMF, as buttons or typed."""

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QPushButton, QWidget

KEYS = "123456789*0#"
#: What a screen reader says for the keys whose glyph it would not read out clearly.
_SPOKEN = {"*": "Star", "#": "Hash"}


class Keypad(QWidget):
    """Emits `pressed(digit)` for a clicked key; `press(digit)` flashes the key typed."""

    pressed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Keypad")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(6)
        self.buttons: dict[str, QPushButton] = {}
        for index, digit in enumerate(KEYS):
            button = QPushButton(digit, self)
            button.setObjectName(f"key-{digit}")
            button.setAccessibleName(f"Key {_SPOKEN.get(digit, digit)}")
            button.setToolTip(f"Send {digit} to the phone (or type it)")
            button.setMinimumSize(56, 40)
            button.clicked.connect(lambda _=False, d=digit: self.pressed.emit(d))
            grid.addWidget(button, index // 3, index % 3)
            self.buttons[digit] = button

    def press(self, digit: str) -> None:
        """A digit typed on the keyboard: the key shows it was pressed, and it is sent."""
        button = self.buttons.get(digit)
        if button is not None and button.isEnabled():
            button.animateClick()
