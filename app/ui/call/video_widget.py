"""A widget that shows video frames (already scaled off the GUI thread) or a line of text."""

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget


class VideoWidget(QWidget):
    """Paints the newest image centred on black; `resized` tells the converter the size to make."""

    #: The drawable size in device pixels (what frames should be scaled to).
    resized = Signal(int, int)

    def __init__(self, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._placeholder = placeholder
        self.frames_painted = 0
        #: Draw the image mirrored (a self-view, like a mirror).
        self.mirrored = False
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 120)

    def sizeHint(self) -> QSize:
        return QSize(640, 480)

    @property
    def has_image(self) -> bool:
        return self._image is not None

    @Slot(QImage)
    def show_image(self, image: QImage) -> None:
        self._image = image
        self.update()

    def show_text(self, text: str) -> None:
        """Drop the picture and show `text` instead (camera off, waiting for video...)."""
        self._image = None
        self._placeholder = text
        self.update()

    @property
    def placeholder(self) -> str:
        return self._placeholder

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        ratio = self.devicePixelRatioF()
        self.resized.emit(int(self.width() * ratio), int(self.height() * ratio))

    def image_rect(self) -> QRect:
        """Where the current image is drawn (centred, aspect kept)."""
        if self._image is None:
            return QRect()
        ratio = self.devicePixelRatioF()
        size = QSize(int(self._image.width() / ratio), int(self._image.height() / ratio))
        if size.width() > self.width() or size.height() > self.height():
            size.scale(self.size(), Qt.AspectRatioMode.KeepAspectRatio)  # a resize in flight
        top_left = QPoint((self.width() - size.width()) // 2, (self.height() - size.height()) // 2)
        return QRect(top_left, size)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#101418"))
        if self._image is not None:
            target = self.image_rect()
            if self.mirrored:
                painter.translate(self.width(), 0)
                painter.scale(-1, 1)
                target.moveLeft(self.width() - target.right() - 1)
            painter.drawImage(target, self._image)
            painter.resetTransform()
            self.frames_painted += 1
        elif self._placeholder:
            font = painter.font()
            font.setPointSizeF(font.pointSizeF() * (1.5 if self.width() > 400 else 1.0))
            painter.setFont(font)
            painter.setPen(QColor("#c8d0d8"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self._placeholder)
        painter.end()
