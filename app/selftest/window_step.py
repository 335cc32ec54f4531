"""Step "window": the Clinic Schedule on a temporary demo store, painted, with SVG icons drawn."""

from pathlib import Path

from PySide6.QtCore import QSettings, QSize
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from app.selftest.qt_wait import wait_until
from app.selftest.report import StepFailed

LOAD_TIMEOUT = 15.0
ICON_SIZE = 48


def qt_application() -> QApplication:
    """The running QApplication, or a new one (kept alive by Qt until the process ends)."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    return QApplication(["clinic-desk"])


def painted_pixels(image: QImage) -> int:
    """How many pixels of `image` are not fully transparent."""
    count = 0
    for y in range(image.height()):
        for x in range(image.width()):
            if image.pixelColor(x, y).alpha() > 0:
                count += 1
    return count


def check_svg_icons() -> None:
    """Both SVG routes work: QIcon (iconengines plugin) and QSvgRenderer (QtSvg itself)."""
    from app.resources import icon_path
    from app.views.icons import icon

    pixmap = icon("status-waiting").pixmap(QSize(ICON_SIZE, ICON_SIZE))
    if pixmap.isNull() or painted_pixels(pixmap.toImage()) == 0:
        raise StepFailed("the SVG status icon renders empty (Qt's svg icon engine is missing?)")

    renderer = QSvgRenderer(str(icon_path("app-icon")))
    if not renderer.isValid():
        raise StepFailed("QtSvg cannot read the app icon")
    image = QImage(ICON_SIZE, ICON_SIZE, QImage.Format.Format_ARGB32)
    image.fill(QColor(0, 0, 0, 0))
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    if painted_pixels(image) == 0:
        raise StepFailed("QtSvg renders the app icon empty")


def run(scratch: Path) -> str:
    qt_application()
    from app.application import AppConfig, Application

    folder = scratch / "window"
    settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
    application = Application(AppConfig(data_dir=folder, demo=True, settings=settings))
    try:
        application.start()
        model = application.model
        if not wait_until(lambda: model.rowCount() > 0, LOAD_TIMEOUT):
            raise StepFailed(f"the schedule showed no rows within {LOAD_TIMEOUT:.0f}s")
        if not application.window.isVisible():
            raise StepFailed("the main window did not show")
        shot = application.window.grab()
        if shot.isNull() or shot.width() < 100:
            raise StepFailed("the main window does not paint")
        check_svg_icons()
        rows = model.rowCount()
    finally:
        application.shutdown()
        application.window.close()
        application.window.deleteLater()
        application.deleteLater()
        wait_until(lambda: False, 0.05)  # let the deferred deletes run
    platform = QApplication.platformName()
    return f"{rows} rows ({platform})"
