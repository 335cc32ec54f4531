"""What can be done to an appointment from the schedule: book, edit, cancel, mark no-show, and
reach its patient (resend the invite, copy the link, a message to the waiting room)."""

from datetime import datetime
from uuid import UUID

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QWidget

from app.services.message_bridge import MessageBridge
from app.services.patient_contact import PatientContactService
from app.services.schedule_service import ScheduleService
from app.ui.common.window_controller import WindowController
from app.ui.schedule.actions_menu import ActionKey, action_states
from app.ui.schedule.appointment_dialog import AppointmentDialog
from app.ui.schedule.cancel_dialog import CancelDialog
from app.ui.schedule.phone_attempts_dialog import PhoneAttemptsDialog
from app.ui.waiting_room.waiting_message_dialog import WaitingMessageDialog
from app.views.date_text import time_text
from shared.enums import AppointmentStatus
from shared.errors import KnownError
from shared.records import Appointment, Patient, PhoneAttempt


class AppointmentController(WindowController):
    #: an appointment was booked or edited through a dialog (the window shows where it went)
    saved = Signal(object)

    def __init__(self, schedule: ScheduleService, bridge: MessageBridge,
                 contact: PatientContactService | None = None,
                 user_id: UUID | None = None) -> None:
        super().__init__()
        self.schedule = schedule
        self._bridge = bridge
        #: Who is signed in: a clinician booking has themself preselected (a clerk, nobody).
        self.user_id = user_id
        #: Invites, links and waiting-room messages (None: not signed in to a server).
        self.contact = contact
        #: The Phone call attempts dialog open now, if one is.
        self.attempts_dialog: PhoneAttemptsDialog | None = None
        schedule.appointmentsSynced.connect(self._synced)

    # --- booking -------------------------------------------------------------------------------
    def new(self, start: datetime | None = None, clinician_id: UUID | None = None,
            patient: Patient | None = None, over: QWidget | None = None) -> AppointmentDialog:
        """The booking dialog, prefilled with `start`, `clinician_id` and `patient` when
        given; it opens over `over` (another window, e.g. the Patients view) or the schedule.

        Without a clinician, the signed-in user's own id: the dialog preselects it only when
        it is a clinician's.
        """
        if clinician_id is None:
            clinician_id = self.user_id
        dialog = AppointmentDialog(self.schedule, over or self.host(), start=start,
                                   clinician_id=clinician_id, patient=patient)
        return self._open_editor(dialog)

    def edit(self, appointment: Appointment) -> AppointmentDialog | None:
        state = next(s for s in action_states(appointment, self.schedule.now())
                     if s.key is ActionKey.EDIT)
        if not state.enabled:
            self._bridge.info.emit(state.reason)
            return None
        return self._open_editor(AppointmentDialog(self.schedule, self.host(),
                                                   appointment=appointment))

    def edit_by_id(self, appointment_id: UUID) -> None:
        """Edit the appointment stored under `appointment_id` (from Needs attention)."""
        self.schedule.get_appointment(appointment_id, self._stored)

    def _stored(self, appointment: Appointment | None, error: KnownError | None) -> None:
        if appointment is not None:
            self.edit(appointment)
        elif error is not None:
            self._bridge.warning.emit(str(error))

    def _open_editor(self, dialog: AppointmentDialog) -> AppointmentDialog:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._saved(dialog))
        dialog.open()
        return dialog

    def _saved(self, dialog: AppointmentDialog) -> None:
        saved = dialog.saved
        if saved is None:
            return
        self._bridge.note.emit(f"Saved {saved.patient.name} at {time_text(saved.start)}", 5000)
        self.saved.emit(saved)

    # --- status --------------------------------------------------------------------------------
    def cancel(self, appointment: Appointment) -> CancelDialog | None:
        """Ask for a reason, then cancel (Delete on a row, the toolbar or the menu)."""
        if appointment.status is not AppointmentStatus.SCHEDULED:
            self._bridge.info.emit(
                f"This appointment is {appointment.status.value.replace('_', '-')}.")
            return None
        dialog = CancelDialog(appointment, self.host())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def confirmed(result: int) -> None:
            if result == QDialog.DialogCode.Accepted:
                self.schedule.set_status(
                    appointment.id, AppointmentStatus.CANCELLED, dialog.reason(),
                    done=self._cancelled,
                )

        dialog.finished.connect(confirmed)
        dialog.open()
        return dialog

    def _cancelled(self, result: Appointment | None, _error: KnownError | None) -> None:
        if result is not None:
            self._bridge.note.emit(f"Cancelled {result.patient.name}'s appointment", 5000)

    def mark_no_show(self, appointment: Appointment) -> None:
        self.schedule.set_status(appointment.id, AppointmentStatus.NO_SHOW)

    def phone_attempts(self, appointment: Appointment) -> None:
        """The calls made to the patient's phone, in a dialog that offers Reschedule…."""
        def loaded(attempts: list[PhoneAttempt] | None, error: KnownError | None) -> None:
            if attempts is None:
                self._bridge.warning.emit(str(error or "The calls could not be read."))
                return
            dialog = PhoneAttemptsDialog(appointment, attempts, self.host())
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.reschedule.connect(self.edit)
            dialog.finished.connect(lambda _result: self._attempts_closed(dialog))
            self.attempts_dialog = dialog
            dialog.open()

        self.schedule.phone_attempts(appointment.id, loaded)

    def _attempts_closed(self, dialog: PhoneAttemptsDialog) -> None:
        if self.attempts_dialog is dialog:
            self.attempts_dialog = None

    def _synced(self, found: list[Appointment], _gone: set[UUID]) -> None:
        """A call made on another desktop synced: the open attempts dialog shows it."""
        dialog = self.attempts_dialog
        if dialog is None or dialog.appointment.id not in {a.id for a in found}:
            return

        def loaded(attempts: list[PhoneAttempt] | None, _error: KnownError | None) -> None:
            if attempts is not None and self.attempts_dialog is dialog:
                dialog.set_attempts(attempts)

        self.schedule.phone_attempts(dialog.appointment.id, loaded)

    # --- the patient ---------------------------------------------------------------------------
    def resend_invite(self, appointment: Appointment) -> None:
        if self.contact is not None:
            self.contact.resend_invite(appointment)

    def copy_link(self, appointment: Appointment) -> None:
        """A fresh patient link, onto the clipboard."""
        if self.contact is not None:
            self.contact.patient_link(appointment, self._link_ready)

    def _link_ready(self, url: str | None, error: KnownError | None) -> None:
        if url is None:
            self._bridge.warning.emit(str(error or "No link came back."))
            return
        QGuiApplication.clipboard().setText(url)
        self._bridge.note.emit(
            "Patient link copied: paste it into your message to the patient", 8000)

    def message_patient(self, appointment: Appointment) -> WaitingMessageDialog | None:
        if self.contact is None:
            return None
        dialog = WaitingMessageDialog(appointment, self.host())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        contact = self.contact

        def chosen(result: int) -> None:
            if result == QDialog.DialogCode.Accepted:
                contact.send_message(appointment, dialog.text(), self._message_sent)

        dialog.finished.connect(chosen)
        dialog.open()
        return dialog

    def _message_sent(self, _result: None, error: KnownError | None) -> None:
        if error is not None:
            self._bridge.warning.emit(str(error))
        else:
            self._bridge.note.emit("Message sent to the waiting room", 5000)
