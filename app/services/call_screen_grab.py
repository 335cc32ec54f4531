"""Screen sharing where PyAV has no grabber (Wayland, offscreen): Qt grabs the screen on a timer."""

import logging

from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtGui import QGuiApplication, QImage

from app.media.screen_share import SCREEN_FPS, PushedVideoTrack

log = logging.getLogger("clinicdesk.media")

#: Wider screens are scaled down to this before sending (sharp enough, and cheap to encode).
MAX_WIDTH = 1280


class ScreenGrabber(QObject):
    """Feeds the primary screen into `track` at SCREEN_FPS until stopped."""

    def __init__(self, parent: QObject | None = None, fps: int = SCREEN_FPS) -> None:
        super().__init__(parent)
        self.track = PushedVideoTrack()
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, 1000 // fps))
        self._timer.timeout.connect(self._grab)
        self.frames = 0

    def start(self) -> None:
        self._grab()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self.track.stop()

    @Slot()
    def _grab(self) -> None:
        if self.track.readyState != "live":
            self._timer.stop()
            return
        screen = QGuiApplication.primaryScreen()
        if screen is None:
            return
        pixmap = screen.grabWindow(0)
        if pixmap.isNull():
            return
        image = pixmap.toImage()
        if image.width() > MAX_WIDTH:
            image = image.scaledToWidth(MAX_WIDTH, Qt.TransformationMode.FastTransformation)
        image = image.convertToFormat(QImage.Format.Format_RGB888)
        width, height = image.width() // 2 * 2, image.height() // 2 * 2
        self.track.push(bytes(image.constBits()), width, height, image.bytesPerLine())
        self.frames += 1
