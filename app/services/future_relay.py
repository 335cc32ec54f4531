"""Deliver a concurrent Future's outcome to a callback on the GUI thread, never blocking it."""

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Signal, Slot

T = TypeVar("T")


class FutureRelay(QObject):
    """Lives on the GUI thread; a signal emitted from the store thread is queued onto it."""

    _finished = Signal(object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._finished.connect(self._deliver)

    def then(self, future: "Future[T]", callback: Callable[["Future[T]"], None]) -> None:
        """Call `callback(future)` on this object's thread once `future` is done."""
        future.add_done_callback(lambda done: self._finished.emit(callback, done))

    @Slot(object, object)
    def _deliver(self, callback: Callable[[Any], None], future: Any) -> None:
        callback(future)


C = TypeVar("C", bound=Callable[..., None])


def while_alive(callback: C) -> C:
    """`callback`, skipped once its widget is gone: an answer that arrives after the dialog
    that asked was closed (and deleted by Qt) must not touch it."""
    owner = getattr(callback, "__self__", None)
    if not isinstance(owner, QObject):
        return callback

    def call(*args: Any) -> None:
        if shiboken6.isValid(owner):
            callback(*args)

    return call  # type: ignore[return-value]
