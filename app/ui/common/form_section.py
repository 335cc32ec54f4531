"""A bold section heading inside a QFormLayout, shared by the app's forms."""

from PySide6.QtWidgets import QFormLayout, QLabel, QWidget


def add_section(form: QFormLayout, title: str, parent: QWidget) -> QLabel:
    heading = QLabel(title, parent)
    font = heading.font()
    font.setBold(True)
    heading.setFont(font)
    if form.rowCount():
        heading.setContentsMargins(0, 8, 0, 0)  # air between the sections
    form.addRow(heading)
    return heading
