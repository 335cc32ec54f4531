"""Opening the Patients view from the schedule, and booking for a patient from it."""

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

from app.services.patient_service import PatientService
from app.ui.common.window_controller import WindowController
from app.ui.patients.book_list_dialog import BookListDialog
from app.ui.patients.patients_window import PatientsWindow
from app.ui.schedule.appointment_controller import AppointmentController
from app.ui.schedule.appointment_dialog import AppointmentDialog
from shared.records import Patient, PatientList


class PatientsController(WindowController):
    def __init__(self, patients: PatientService, appointments: AppointmentController) -> None:
        super().__init__()
        self.patients = patients
        self.appointments = appointments
        self.window: PatientsWindow | None = None
        #: The schedule window puts it on its toolbar.
        self.action = QAction("Patients", self)
        self.action.setShortcut(QKeySequence("Ctrl+P"))
        self.action.setToolTip(
            "Find a patient by name, MRN, date of birth, phone or email (Ctrl+P)")
        self.action.triggered.connect(self.open_patients)

    def open_patients(self) -> PatientsWindow:
        if self.window is None:
            view = PatientsWindow(self.patients, self.book_for, self.host())
            view.lists.book_list = self.book_list
            view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            view.destroyed.connect(self._closed)
            self.window = view
        self.window.show()
        self.window.raise_()
        self.window.activateWindow()
        self.window.search_edit.setFocus()
        return self.window

    def _closed(self) -> None:
        self.window = None

    def book_for(self, patient: Patient) -> AppointmentDialog:
        """The booking dialog with `patient` chosen, over the Patients view."""
        return self.appointments.new(patient=patient, over=self.window)

    def book_list(self, listed: PatientList) -> BookListDialog:
        """Book everyone on `listed`, over the Patients view."""
        dialog = BookListDialog(self.patients, self.appointments.schedule,
                                self.window.lists.lists if self.window else [listed], listed,
                                self.window or self.host())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def add_to_list(self, patient: Patient) -> None:
        """From a schedule row: the Patients view on this patient, asking which list."""
        window = self.open_patients()
        window.show_patient(patient)
        window.add_to_list()
