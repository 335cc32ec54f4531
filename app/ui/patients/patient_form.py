"""A patient's details as an editable form, with each rule's message beside its field."""

from datetime import date
from uuid import UUID

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from app.ui.common.date_sections import select_sections_on_click
from app.views.date_text import edit_date_format
from shared.drafts import PatientDraft
from shared.errors import FieldError
from shared.records import Patient

#: The date edit's stand-in for "no date of birth": shown blank, read as None.
_NO_BIRTH_DATE = QDate(1899, 12, 31)
ERROR_PREFIX = "Error: "


class PatientForm(QWidget):
    """Filled from a Patient; `draft()` reads it back; `show_errors` marks the fields."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.patient_id: UUID | None = None
        self._form = QFormLayout(self)
        self._form.setContentsMargins(0, 0, 0, 0)
        self._form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._errors: dict[str, QLabel] = {}
        self.name_edit = QLineEdit(self)
        self._row("Na&me", self.name_edit, "patient.name")
        self.birth_edit = QDateEdit(self)
        self.birth_edit.setCalendarPopup(True)
        self.birth_edit.setDisplayFormat(edit_date_format())
        self.birth_edit.setDateRange(_NO_BIRTH_DATE, QDate(9998, 12, 31))
        self.birth_edit.setSpecialValueText(" ")  # blank rather than a made-up date
        self.birth_edit.setDate(_NO_BIRTH_DATE)
        select_sections_on_click(self.birth_edit)
        self.birth_unknown = QCheckBox("&Unknown", self)
        self.birth_unknown.setToolTip("The date of birth is not known; leave it empty")
        self.birth_unknown.toggled.connect(self._birth_unknown_toggled)
        birth = QWidget(self)
        line = QHBoxLayout(birth)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(self.birth_edit, 1)
        line.addWidget(self.birth_unknown)
        self._row("Date of &birth", birth, "patient.date_of_birth", self.birth_edit)
        self.mrn_edit = QLineEdit(self)
        self.mrn_edit.setToolTip("Medical record number")
        self._row("M&RN", self.mrn_edit, "patient.mrn")
        #: Who assigned an imported patient's MRN; hidden for MRNs typed here.
        self.mrn_source = QLabel(self)
        self.mrn_source.setWordWrap(True)
        self.mrn_source.setTextFormat(Qt.TextFormat.PlainText)
        self.mrn_source.hide()
        self._form.addRow("", self.mrn_source)
        self.phone_edit = QLineEdit(self)
        self._row("P&hone", self.phone_edit, "patient.phone")
        self.email_edit = QLineEdit(self)
        self.email_edit.setPlaceholderText("Needed for video and group invites")
        self._row("&Email", self.email_edit, "patient.email")
        self.setEnabled(False)  # until a patient is shown

    def _row(self, text: str, field: QWidget, key: str, buddy: QWidget | None = None) -> None:
        label = QLabel(text, self)
        label.setBuddy(buddy or field)
        error = QLabel(self)
        error.setWordWrap(True)
        error.setTextFormat(Qt.TextFormat.PlainText)
        dark = self.palette().color(QPalette.ColorRole.Window).lightness() < 128
        error.setStyleSheet(f"QLabel {{ color: {'#ff8a80' if dark else '#b3261e'}; }}")
        error.hide()
        self._errors[key] = error
        self._form.addRow(label, field)
        self._form.addRow("", error)
        (buddy or field).setAccessibleName(text.replace("&", ""))

    def _birth_unknown_toggled(self, unknown: bool) -> None:
        self.birth_edit.setEnabled(not unknown)
        if unknown:
            self.birth_edit.setDate(_NO_BIRTH_DATE)
        elif self.birth_edit.date() == _NO_BIRTH_DATE:
            self.birth_edit.setDate(QDate(1970, 1, 1))

    def set_patient(self, patient: Patient) -> None:
        self.setEnabled(True)
        self.clear_errors()
        self.patient_id = patient.id
        self.name_edit.setText(patient.name)
        born = patient.date_of_birth
        self.birth_unknown.setChecked(born is None)
        if born is not None:
            self.birth_edit.setDate(QDate(born.year, born.month, born.day))
        self.mrn_edit.setText(patient.mrn)
        self.mrn_source.setText(
            f"Assigned by {patient.mrn_authority} (from the hospital system); changing it here "
            "makes it a local MRN." if patient.mrn_authority else "")
        self.mrn_source.setVisible(bool(patient.mrn_authority))
        self.mrn_edit.setAccessibleDescription(
            f"Assigned by {patient.mrn_authority}" if patient.mrn_authority else "")
        self.phone_edit.setText(patient.phone)
        self.email_edit.setText(patient.email)

    def draft(self) -> PatientDraft:
        born: date | None = None
        picked = self.birth_edit.date()
        if not self.birth_unknown.isChecked() and picked != _NO_BIRTH_DATE:
            born = date(picked.year(), picked.month(), picked.day())
        return PatientDraft(
            name=self.name_edit.text().strip(), date_of_birth=born,
            mrn=self.mrn_edit.text().strip(), email=self.email_edit.text().strip(),
            phone=self.phone_edit.text().strip(), id=self.patient_id,
        )

    def clear_errors(self) -> None:
        for label in self._errors.values():
            label.clear()
            label.hide()

    def show_errors(self, errors: list[FieldError]) -> list[str]:
        """Mark each field's first error; returns the messages no field here holds."""
        self.clear_errors()
        loose: list[str] = []
        for error in errors:
            label = self._errors.get(error.field)
            if label is None:
                loose.append(error.message)
            elif label.isHidden():
                label.setText(ERROR_PREFIX + error.message)
                label.show()
        return loose

    def error_text(self, field: str) -> str:
        label = self._errors[field]
        return "" if label.isHidden() else label.text()
