"""What a screen reader hears of a window: every control's accessible name, and the tree."""

from PySide6.QtGui import QAccessible, QAccessibleInterface
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QSlider,
    QTextEdit,
    QWidget,
)

_CONTROLS = (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QAbstractItemView,
             QPlainTextEdit, QTextEdit, QSlider)


def _name(widget: QWidget) -> str:
    interface = QAccessible.queryAccessibleInterface(widget)
    return interface.text(QAccessible.Text.Name).strip() if interface is not None else ""


def unnamed_controls(top: QWidget) -> list[str]:
    """The visible controls in `top` a screen reader would announce without a name."""
    missing = []
    for widget in top.findChildren(QWidget):
        if not isinstance(widget, _CONTROLS) or not widget.isVisible():
            continue
        if isinstance(widget, QHeaderView):
            continue  # its sections are announced as the columns' headers
        if isinstance(widget.parentWidget(), QComboBox | QAbstractSpinBox):
            continue  # the editor inside a combo or spin box: the box carries the name
        if not _name(widget):
            missing.append(f"{type(widget).__name__} {widget.objectName()!r} "
                           f"(tooltip {widget.toolTip()!r})")
    return missing


def accessible_tree(top: QWidget, depth_limit: int = 6, line_limit: int = 90) -> list[str]:
    """The accessibility tree of `top` as lines "role: name", indented by depth (the shown
    part: rows scrolled out of a table are left out, and at most `line_limit` lines)."""
    lines: list[str] = []

    def walk(interface: QAccessibleInterface, depth: int) -> None:
        state = interface.state()
        if state.invisible or state.offscreen or depth > depth_limit or len(lines) >= line_limit:
            return
        role = interface.role().name
        name = interface.text(QAccessible.Text.Name).strip().replace("\n", " ")
        value = interface.text(QAccessible.Text.Value).strip().replace("\n", " ")
        if name or value or depth < 2:
            text = f"{role}: {name}" + (f" = {value[:60]}" if value and value != name else "")
            # Linux screen readers take a combo box's label from this relation, not its name.
            labels = [other.text(QAccessible.Text.Name).strip() for other, _ in
                      interface.relations(QAccessible.RelationFlag.Label)]
            if labels and labels[0] and labels[0] != name:
                text += f"  (labelled {labels[0].replace('&', '')!r})"
            lines.append("  " * depth + text)
        for index in range(min(interface.childCount(), 2000)):
            child = interface.child(index)
            if child is not None:
                walk(child, depth + 1)

    root = QAccessible.queryAccessibleInterface(top)
    if root is not None:
        walk(root, 0)
    return lines
