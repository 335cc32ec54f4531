"""Run as `python -m tests.start_imports_probe FOLDER`: start the desktop as `clinic-desk` does
(the signed-in window, the demo's start-up module), offscreen, and print as JSON the modules
loaded at the moment the schedule's first day is shown. tests/test_start_imports.py reads it."""

import json
import os
import sys
import uuid
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"


def main() -> int:
    folder = Path(sys.argv[1])
    # What app/main.py imports before the window, the demo's start-up included.
    import qasync  # noqa: F401
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    import app.demo.demo_startup  # noqa: F401
    import app.startup  # noqa: F401
    from app.application import AppConfig, Application, SignedIn
    from app.services.account_service import Account, AccountService
    from app.sync.api_client import SignedInUser
    from app.sync.token_store import MemoryTokenStore
    from shared.enums import Role

    qt_app = QApplication(sys.argv[:1])
    settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
    accounts = AccountService(settings, MemoryTokenStore())
    # A server nobody answers at: the first window must not need one.
    account = Account("http://127.0.0.1:9", SignedInUser(uuid.uuid4(), "probe", "Dr Probe",
                                                         Role.CLINICIAN))
    application = Application(AppConfig(folder, False, settings),
                              signed_in=SignedIn(account, accounts.client(account), accounts))
    seen: list[list[str]] = []
    application.window.firstRangeShown.connect(lambda: seen.append(sorted(sys.modules)))
    application.start(sync=False)
    while not seen:
        qt_app.processEvents()
    while application.calls is None:  # and what loads behind the window does load
        qt_app.processEvents()
    print(json.dumps({"at_first_day": seen[0], "after": sorted(sys.modules)}))  # noqa: T201
    application.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
