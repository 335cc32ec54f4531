"""`clinic-desk`: parse the command line, start Qt on the qasync loop, run the application."""

import argparse
import asyncio
import importlib.util
import logging
import signal
import sys
from pathlib import Path

from app import __version__

log = logging.getLogger("clinicdesk.app")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="clinic-desk", description="Clinic Desk: the virtual-clinic schedule."
    )
    parser.add_argument(
        "--demo", action="store_true",
        help="run the whole demo clinic on this computer: its own server (embedded, on "
        "127.0.0.1), the schedule signed in as its clinician, patients who arrive",
    )
    parser.add_argument(
        "--reset", action="store_true",
        help="with --demo: start the demo's day afresh (by default it keeps what you booked)",
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None,
        help="folder of the local store (default: the platform's app-data folder)",
    )
    parser.add_argument(
        "--self-test", action="store_true",
        help="check this installation (window, camera, a loopback call, store) offscreen, "
        "print a one-line report and exit non-zero on failure",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    args = parser.parse_args(argv)
    if args.reset and not args.demo:
        parser.error("--reset starts the demo's day afresh: use it with --demo")
    return args


def embedded_demo_available() -> bool:
    """The demo's server runs from this installation (not from a bundle, which has none)."""
    return not getattr(sys, "frozen", False) and importlib.util.find_spec("server") is not None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.self_test:
        # Before anything imports Qt: the self-test picks its own (offscreen) platform.
        from app.selftest.runner import run_self_test

        return run_self_test()

    # Imported here so that --help and --version work without a display.
    import qasync
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication, QMessageBox

    from app.application import AppConfig, Application
    from app.logging_config import setup_logging
    from app.startup import Startup
    from app.store.database import APP_NAME, default_data_dir
    from app.ui.common.crash_handler import CrashHandler
    from shared.errors import KnownError

    log_path = setup_logging()
    qt_app = QApplication(sys.argv[:1])
    qt_app.setApplicationName(APP_NAME)
    qt_app.setOrganizationName(APP_NAME)
    qt_app.setApplicationDisplayName("Clinic Desk")
    loop = qasync.QEventLoop(qt_app)
    asyncio.set_event_loop(loop)
    CrashHandler(str(log_path)).install(loop)

    data_dir = args.data_dir or default_data_dir()
    settings = QSettings()
    if args.demo:
        settings = QSettings(APP_NAME, f"{APP_NAME}-demo")
    config = AppConfig(data_dir=data_dir, demo=args.demo, settings=settings)
    local_demo = args.demo and not embedded_demo_available()
    quit_event = asyncio.Event()
    qt_app.aboutToQuit.connect(quit_event.set)
    # Logging out or `kill` closes the window the normal way: settings saved, store closed.
    def stop(*_: object) -> None:
        qt_app.closeAllWindows()
        quit_event.set()
        if local_demo:
            qt_app.quit()

    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, stop)
    if args.demo and not local_demo:
        from app.demo.demo_startup import DemoStartup

        qt_app.setQuitOnLastWindowClosed(False)
        demo = DemoStartup(config, quit_event, reset=args.reset)
        log.info("Clinic Desk %s started (demo)", __version__)
        with loop:
            try:
                loop.run_until_complete(demo.run())
            finally:
                demo.shutdown()
        return 0
    if local_demo:
        # An installed bundle carries no server: its demo is the local store alone.
        try:
            application = Application(config)
        except KnownError as error:
            QMessageBox.critical(None, "Clinic Desk cannot start", str(error))
            return 1
        application.start()
        log.info("Clinic Desk %s started (demo)", __version__)
        with loop:
            loop.run_until_complete(quit_event.wait())
        application.shutdown()
        return 0

    # The startup decides when to stop: between a sign-out and the next sign-in no window may
    # be open, and the sync must stop before the loop does.
    qt_app.setQuitOnLastWindowClosed(False)
    startup = Startup(config, quit_event)
    log.info("Clinic Desk %s starting", __version__)
    with loop:
        try:
            loop.run_until_complete(startup.run())
        except KnownError as error:
            QMessageBox.critical(None, "Clinic Desk cannot start", str(error))
            return 1
        finally:
            startup.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
