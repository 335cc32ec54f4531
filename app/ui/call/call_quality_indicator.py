"""Connection quality in the call window: a coloured dot, a word and the path the media took
(direct, or relay UDP/TCP/TLS); the figures in the tooltip."""

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QLabel, QWidget

from app.media.stats import CallQuality, QualityLevel

_LOOK: dict[QualityLevel, tuple[str, str]] = {
    QualityLevel.UNKNOWN: ("#8a94a0", "Connection: measuring…"),
    QualityLevel.GOOD: ("#2e9e44", "Good connection"),
    QualityLevel.FAIR: ("#d49a00", "Fair connection"),
    QualityLevel.POOR: ("#d0342c", "Poor connection"),
}


class QualityIndicator(QLabel):
    """Shows the latest CallQuality; `level` is what it shows now."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.level = QualityLevel.UNKNOWN
        self.show_quality(None)

    @Slot(object)
    def show_quality(self, quality: CallQuality | None) -> None:
        self.level = QualityLevel.UNKNOWN if quality is None else quality.level
        colour, text = _LOOK[self.level]
        if quality is not None and quality.path is not None:
            text = f"{text} · {quality.path.summary()}"
        self.setText(f'<span style="color:{colour}; font-size:14pt">●</span> {text}')
        self.setAccessibleName(text)
        summary = "" if quality is None else quality.summary()
        # Not capitalize(): it would lower "UDP" and "TLS" in the path.
        self.setToolTip("Waiting for the first measurement" if quality is None
                        else summary[:1].upper() + summary[1:])
