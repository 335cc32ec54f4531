"""The small self-view over the remote video: drag it to any corner out of the way."""

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from app.ui.call.video_widget import VideoWidget

MARGIN = 12


class SelfView(VideoWidget):
    """A VideoWidget child of the remote view that the user can move with the mouse."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__("", parent)
        self.mirrored = True
        self.setMinimumSize(96, 72)
        self.setFixedSize(200, 150)
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.setToolTip("Your camera: drag to move")
        self.setAccessibleName("Your camera (self-view)")
        self._grab_offset: QPoint | None = None
        #: Where the user put it, as a fraction of the free space (kept on resizes).
        self._anchor = (1.0, 1.0)

    def place(self) -> None:
        """Put the view at its anchor within the parent (after the parent resized)."""
        parent = self.parentWidget()
        if parent is None:
            return
        free_x = max(0, parent.width() - self.width() - 2 * MARGIN)
        free_y = max(0, parent.height() - self.height() - 2 * MARGIN)
        self.move(MARGIN + int(free_x * self._anchor[0]), MARGIN + int(free_y * self._anchor[1]))

    def move_to(self, point: QPoint) -> None:
        """Move the top-left corner to `point` (parent coordinates), kept inside the parent."""
        parent = self.parentWidget()
        if parent is None:
            return
        free_x = max(1, parent.width() - self.width() - 2 * MARGIN)
        free_y = max(1, parent.height() - self.height() - 2 * MARGIN)
        x = min(max(point.x() - MARGIN, 0), free_x)
        y = min(max(point.y() - MARGIN, 0), free_y)
        self._anchor = (x / free_x, y / free_y)
        self.place()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() is Qt.MouseButton.LeftButton:
            self._grab_offset = event.position().toPoint()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._grab_offset is not None:
            self.move_to(self.mapToParent(event.position().toPoint()) - self._grab_offset)
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._grab_offset is not None:
            self._grab_offset = None
            self.setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        painter = QPainter(self)
        painter.setPen(QPen(QColor("#ffffff"), 2))
        painter.drawRect(self.rect().adjusted(1, 1, -1, -1))
        painter.end()
