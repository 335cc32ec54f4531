"""The yardstick of bench/start_bench.py: a bare PySide6 table window the size of the schedule.

Prints "shown" once the window is shown and its event loop runs, then waits to be ended.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bare_window.py
"""

import sys

from PySide6.QtCore import QTimer
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QApplication, QMainWindow, QTableView

ROWS = 30
COLUMNS = 9


def _say_shown() -> None:
    print("shown", flush=True)  # noqa: T201 (the bench reads it)


def main() -> int:
    app = QApplication(sys.argv[:1])
    model = QStandardItemModel(ROWS, COLUMNS)
    for row in range(ROWS):
        for column in range(COLUMNS):
            model.setItem(row, column, QStandardItem(f"row {row} column {column}"))
    window = QMainWindow()
    view = QTableView(window)
    view.setModel(model)
    window.setCentralWidget(view)
    window.resize(1180, 720)
    window.show()
    # Like the schedule's "schedule shown" line: once the event loop has laid the rows out.
    QTimer.singleShot(0, _say_shown)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
