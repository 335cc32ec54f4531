"""The Settings dialog over a real settings file and a real policy file: values, locks, saving."""

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.policy.linux_file import PATH_VARIABLE
from app.policy.machine_policy import MachinePolicy, load_machine_policy
from app.services.settings_service import SettingsService
from app.ui.settings.settings_dialog import SettingsDialog, split_list
from shared.clock import FixedClock
from tests.test_main_window import make_app

SCREENSHOT = Path("/tmp/shots/settings-dialog.png")


@pytest.fixture
def policy_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's policy file (absent until a test writes it); never the machine's /etc."""
    path = tmp_path / "policy.toml"
    monkeypatch.setenv(PATH_VARIABLE, str(path))
    return path


@pytest.fixture
def ini(tmp_path: Path) -> Path:
    return tmp_path / "settings.ini"


def settings_at(path: Path) -> QSettings:
    return QSettings(str(path), QSettings.Format.IniFormat)


def stored(path: Path) -> dict[str, object]:
    """The user's settings in `path`, read back through a fresh QSettings (no policy)."""
    return SettingsService(MachinePolicy(), settings_at(path)).user_values()


def open_dialog(qtbot: QtBot, ini: Path) -> SettingsDialog:
    service = SettingsService(load_machine_policy(), settings_at(ini))
    dialog = SettingsDialog(service)
    service.setParent(dialog)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def retype(qtbot: QtBot, widget: object, text: str) -> None:
    widget.selectAll()  # type: ignore[attr-defined]
    qtbot.keyClick(widget, Qt.Key.Key_Delete)
    qtbot.keyClicks(widget, text)


def test_defaults_are_shown(qtbot: QtBot, policy_file: Path, ini: Path) -> None:
    dialog = open_dialog(qtbot, ini)
    assert dialog.server_edit.text() == ""
    assert dialog.ice_edit.toPlainText() == ""
    assert dialog.turn_edit.toPlainText() == ""
    assert not dialog.test_pattern_check.isChecked()  # allow_test_pattern defaults to off
    assert dialog.idle_spin.value() == 0 and dialog.idle_spin.text() == "Off"
    assert dialog.lock_notes == {}
    for widget in (dialog.server_edit, dialog.ice_edit, dialog.turn_edit,
                   dialog.test_pattern_check, dialog.idle_spin):
        assert widget.isEnabled()
    assert dialog.focusWidget() is dialog.server_edit


def test_saved_values_are_read_back(qtbot: QtBot, policy_file: Path, ini: Path) -> None:
    dialog = open_dialog(qtbot, ini)
    qtbot.keyClicks(dialog.server_edit, "https://desk.example.org/")
    qtbot.keyClicks(dialog.ice_edit, "eth0, Wi-Fi")
    qtbot.keyClicks(dialog.turn_edit, "turns:turn.example.org:5349")
    dialog.test_pattern_check.click()
    retype(qtbot, dialog.idle_spin, "15")
    with qtbot.waitSignal(dialog.settingsSaved) as saved:
        qtbot.keyClick(dialog.server_edit, Qt.Key.Key_Return)
    assert dialog.result() == SettingsDialog.DialogCode.Accepted
    assert saved.args is not None
    assert saved.args[0]["server_url"].value == "https://desk.example.org"
    assert stored(ini) == {
        "server_url": "https://desk.example.org",
        "ice_interfaces": ["eth0", "Wi-Fi"],
        "turn_servers": ["turns:turn.example.org:5349"],
        "allow_test_pattern": True,
        "idle_lock_minutes": 15,
    }
    on_disk = ini.read_text()
    assert "[settings]" in on_disk and "allow_test_pattern=true" in on_disk

    again = open_dialog(qtbot, ini)
    assert again.server_edit.text() == "https://desk.example.org"
    assert split_list(again.ice_edit.toPlainText()) == ["eth0", "Wi-Fi"]
    assert again.turn_edit.toPlainText() == "turns:turn.example.org:5349"
    assert again.test_pattern_check.isChecked()
    assert again.idle_spin.value() == 15


def test_unchanged_fields_are_not_written(qtbot: QtBot, policy_file: Path, ini: Path) -> None:
    dialog = open_dialog(qtbot, ini)
    retype(qtbot, dialog.idle_spin, "5")
    dialog.save_button.click()
    assert dialog.result() == SettingsDialog.DialogCode.Accepted
    # Defaults the user did not touch stay defaults (a later version may change them).
    assert stored(ini) == {"idle_lock_minutes": 5}


def test_a_policy_server_url_is_locked_and_never_overwritten(
    qtbot: QtBot, policy_file: Path, ini: Path, screenshot_dir: Path | None
) -> None:
    policy_file.write_text('server_url = "https://desk.hospital.example.org"\n')
    before = settings_at(ini)
    before.setValue("settings/server_url", "https://my-own.example.org")
    before.sync()

    dialog = open_dialog(qtbot, ini)
    assert dialog.server_edit.text() == "https://desk.hospital.example.org"
    assert not dialog.server_edit.isEnabled()
    note = dialog.lock_notes["server_url"].text()
    assert "Set by your organisation" in note and str(policy_file) in note
    assert dialog.server_edit.accessibleDescription() == note
    assert set(dialog.lock_notes) == {"server_url"}
    assert dialog.idle_spin.isEnabled()
    assert dialog.focusWidget() is dialog.ice_edit  # the first field the user can change

    QApplication.processEvents()
    picture = dialog.grab()
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert picture.save(str(SCREENSHOT))
    if screenshot_dir is not None:
        assert picture.save(str(screenshot_dir / "settings-dialog.png"))

    retype(qtbot, dialog.idle_spin, "10")
    dialog.save_button.click()
    assert dialog.result() == SettingsDialog.DialogCode.Accepted
    assert dialog.saved is not None
    assert dialog.saved["server_url"].value == "https://desk.hospital.example.org"
    assert dialog.saved["server_url"].locked
    assert stored(ini) == {"server_url": "https://my-own.example.org", "idle_lock_minutes": 10}


def test_policy_flags_and_minutes_are_shown_as_set(
    qtbot: QtBot, policy_file: Path, ini: Path
) -> None:
    policy_file.write_text("allow_test_pattern = false\nidle_lock_minutes = 480\n")
    dialog = open_dialog(qtbot, ini)
    # No test pattern, set by IT: the box is unticked and locked.
    assert not dialog.test_pattern_check.isChecked()
    assert not dialog.test_pattern_check.isEnabled()
    assert dialog.idle_spin.value() == 480 and not dialog.idle_spin.isEnabled()
    assert dialog.server_edit.isEnabled()
    dialog.save_button.click()
    assert dialog.result() == SettingsDialog.DialogCode.Accepted
    assert stored(ini) == {}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("desk.example.org", "not a URL with a host"),
        ("http://desk.example.org", "must start with https://"),
        ("https://", "not a URL with a host"),
    ],
)
def test_an_invalid_url_keeps_the_dialog_open_and_writes_nothing(
    qtbot: QtBot, policy_file: Path, ini: Path, url: str, message: str
) -> None:
    dialog = open_dialog(qtbot, ini)
    qtbot.keyClicks(dialog.server_edit, url)
    retype(qtbot, dialog.idle_spin, "5")  # a valid change is not saved either
    qtbot.keyClick(dialog.server_edit, Qt.Key.Key_Return)
    assert dialog.isVisible()
    assert dialog.result() != SettingsDialog.DialogCode.Accepted
    error = dialog.error_text("server_url")
    assert error.startswith("Error: ") and message in error and "Enter it like https://" in error
    assert dialog.server_edit.accessibleDescription() == error
    assert dialog.focusWidget() is dialog.server_edit
    assert dialog.saved is None
    assert stored(ini) == {}

    retype(qtbot, dialog.server_edit, "https://desk.example.org")
    dialog.save_button.click()
    assert dialog.result() == SettingsDialog.DialogCode.Accepted
    assert stored(ini)["server_url"] == "https://desk.example.org"


def test_an_invalid_turn_server_is_named(qtbot: QtBot, policy_file: Path, ini: Path) -> None:
    dialog = open_dialog(qtbot, ini)
    qtbot.keyClicks(dialog.turn_edit, "turns:turn.example.org")
    qtbot.keyClick(dialog.turn_edit, Qt.Key.Key_Return)  # one per line
    qtbot.keyClicks(dialog.turn_edit, "stun:stun.example.org")
    dialog.save_button.click()
    assert dialog.isVisible()
    assert "'stun:stun.example.org' is not a TURN URI" in dialog.error_text("turn_servers")
    assert dialog.error_text("server_url") == ""
    assert stored(ini) == {}


def test_escape_changes_nothing(qtbot: QtBot, policy_file: Path, ini: Path) -> None:
    dialog = open_dialog(qtbot, ini)
    qtbot.keyClicks(dialog.server_edit, "https://desk.example.org")
    dialog.test_pattern_check.click()
    qtbot.keyClick(dialog.server_edit, Qt.Key.Key_Escape)
    assert dialog.result() == SettingsDialog.DialogCode.Rejected
    assert not dialog.isVisible()
    assert dialog.saved is None
    assert stored(ini) == {}


def test_the_settings_action_opens_the_dialog(
    qtbot: QtBot, tmp_path: Path, clock: FixedClock, policy_file: Path
) -> None:
    policy_file.write_text('server_url = "https://desk.hospital.example.org"\n')
    desk = make_app(tmp_path, clock, qtbot)
    try:
        window = desk.window
        assert window.settings_action.isEnabled()
        qtbot.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: window.findChild(SettingsDialog) is not None)
        dialog = window.findChild(SettingsDialog)
        assert isinstance(dialog, SettingsDialog)
        qtbot.waitExposed(dialog)
        assert not dialog.server_edit.isEnabled()  # the policy reached the dialog
        retype(qtbot, dialog.idle_spin, "20")
        dialog.save_button.click()
        qtbot.waitUntil(lambda: window.findChild(SettingsDialog) is None)  # closed, deleted
        assert window.statusBar().currentMessage() == "Settings saved"
        assert desk.settings_service.effective()["idle_lock_minutes"].value == 20
    finally:
        desk.shutdown()
