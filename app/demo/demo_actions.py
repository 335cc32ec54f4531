"""The demo's own row actions: "Open as patient" (the patient's link in the default browser)
and "Show invite email" (the invite the demo's server wrote to its mail folder)."""

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QWidget

from app.demo.invite_email_dialog import InviteEmailDialog
from app.demo.invite_mail import newest_invite
from app.services.message_bridge import MessageBridge
from app.services.patient_contact import PatientContactService
from app.ui.schedule.actions_menu import ActionKey
from shared.errors import KnownError
from shared.records import Appointment

log = logging.getLogger("clinicdesk.demo")


class DemoActions(QObject):
    def __init__(self, contact: PatientContactService, bridge: MessageBridge,
                 window: QWidget) -> None:
        super().__init__(window)
        self.contact = contact
        self.bridge = bridge
        self.window = window
        #: The server's mail pickup folder (known once the demo server is ready).
        self.mail_dir: Path | None = None
        #: The last link opened (tests and the log use it).
        self.last_opened = ""

    def trigger(self, key: ActionKey, appointment: Appointment) -> object:
        if key is ActionKey.OPEN_AS_PATIENT:
            self.open_as_patient(appointment)
            return None
        if key is ActionKey.SHOW_INVITE_EMAIL:
            return self.show_invite_email(appointment)
        return None

    def open_as_patient(self, appointment: Appointment) -> None:
        """A fresh link for the patient, opened in the default browser: the welcome page,
        the device check and the waiting room, and the row turns green here."""
        def opened(url: str | None, error: KnownError | None) -> None:
            if url is None:
                self.bridge.warning.emit(str(error or "The server gave no link."))
                return
            self.last_opened = url
            if not QDesktopServices.openUrl(QUrl(url)):
                self.bridge.warning.emit(
                    f"No web browser could be opened; open this link in one: {url}")

        self.contact.patient_link(appointment, opened)

    def show_invite_email(self, appointment: Appointment) -> InviteEmailDialog | None:
        email = None if self.mail_dir is None else newest_invite(self.mail_dir, appointment.id)
        if email is None:
            self.bridge.info.emit(
                f"No invite email for {appointment.patient.name} yet: it is written a moment "
                "after booking, and only for patients with an email address.")
            return None
        dialog = InviteEmailDialog(email, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog
