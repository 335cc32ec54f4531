"""The Clinic Schedule's columns and custom item-data roles."""

from enum import IntEnum

from PySide6.QtCore import Qt


class Column(IntEnum):
    TIME = 0
    PATIENT = 1
    KIND = 2
    CLINICIAN = 3
    STATUS = 4
    WAITING = 5
    NOTES = 6
    CALL = 7
    ACTIONS = 8


HEADERS: dict[Column, str] = {
    Column.TIME: "Time",
    Column.PATIENT: "Patient",
    Column.KIND: "Kind",
    Column.CLINICIAN: "Clinician",
    Column.STATUS: "Status",
    Column.WAITING: "Waiting",
    Column.NOTES: "Notes",
    Column.CALL: "",
    Column.ACTIONS: "",
}


class Role(IntEnum):
    """Custom roles; values start at Qt.ItemDataRole.UserRole."""

    SORT = Qt.ItemDataRole.UserRole + 1
    APPOINTMENT = Qt.ItemDataRole.UserRole + 2
    STATE = Qt.ItemDataRole.UserRole + 3
    WAITING_SECONDS = Qt.ItemDataRole.UserRole + 4
