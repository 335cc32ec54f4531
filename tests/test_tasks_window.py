"""The Tasks view driven as a clinician would: tick a task off, read what happened, undo it."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app.services.message_bridge import MessageBridge
from app.services.task_service import TaskService
from app.store.local_store import LocalStore
from app.ui.tasks.tasks_window import TasksWindow
from app.views.task_model import DONE
from shared.drafts import TaskDraft
from tests.conftest import CLERK, DR_NG, DR_OKAFOR
from tests.window_helpers import assert_placed_over, shown_owner


@pytest.fixture
def tasks(store: LocalStore, bridge: MessageBridge) -> Iterator[TaskService]:
    service = TaskService(store, DR_NG.id, bridge)
    yield service
    service.close()


def stored_done(store: LocalStore) -> bool:
    [task] = store.tasks().result()
    return task.done


def test_ticking_a_task_done_says_so_and_offers_undo(
    qtbot: QtBot, tasks: TaskService, store: LocalStore, screenshot_dir: Path | None
) -> None:
    store.save_task(TaskDraft(DR_NG.id, "Call back about the insulin dose"), DR_NG.id).result()
    window = TasksWindow(tasks, [DR_NG, DR_OKAFOR, CLERK])
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.proxy.rowCount() == 1)

    done_box = window.view.visualRect(window.proxy.index(0, DONE)).center()
    QTest.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=done_box)
    # Ticked off: it leaves the open tasks, and the window says where it went.
    qtbot.waitUntil(lambda: window.proxy.rowCount() == 0)
    assert stored_done(store)
    qtbot.waitUntil(window.banner.isVisible)
    assert "“Call back about the insulin dose” is done" in window.banner.label.text()
    assert "moved to Done" in window.banner.label.text()
    assert window.banner.action_button.isVisible()
    if screenshot_dir is not None:
        assert window.grab().save(str(screenshot_dir / "tasks-done-undo.png"))

    QTest.mouseClick(window.banner.action_button, Qt.MouseButton.LeftButton)  # Undo
    qtbot.waitUntil(lambda: window.proxy.rowCount() == 1)
    assert not stored_done(store)
    qtbot.waitUntil(lambda: "is back as it was" in window.banner.label.text())
    assert not window.banner.action_button.isVisible()  # an undo is not undone again


def test_the_tasks_window_opens_on_the_screen_over_its_owner(
    qtbot: QtBot, tasks: TaskService
) -> None:
    # The main window, low on the right of the screen.
    owner = shown_owner(qtbot, QRect(450, 450, 300, 300))
    window = TasksWindow(tasks, [DR_NG], owner)
    assert_placed_over(qtbot, window, owner)
    window.close()
