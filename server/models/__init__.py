"""The server's tables; importing this package registers them all on SQLModel.metadata."""

from server.models.access import Assignment, Delegation
from server.models.appointment import Appointment, AppointmentExternalId, AppointmentParticipant
from server.models.audit import AuditEvent
from server.models.group_call import GroupCallMember, GroupCallRoom
from server.models.hl7_message import Hl7Message
from server.models.hl7_outbound import Hl7Outbound
from server.models.invite import Invite, PatientLink
from server.models.location import Location
from server.models.patient import Patient
from server.models.patient_list import PatientList, PatientListMember
from server.models.phone_attempt import PhoneAttempt
from server.models.presence import CallOwner, PresencePage, PresenceRoom, ServerProcess
from server.models.sync import Change, ClientMutation, FieldChange
from server.models.system_client import SystemClient
from server.models.task import Task
from server.models.token import RefreshToken, TokenFamily
from server.models.user import User
from server.models.waiting import WaitingVisit

__all__ = [
    "Appointment",
    "AppointmentExternalId",
    "AppointmentParticipant",
    "Assignment",
    "AuditEvent",
    "CallOwner",
    "Change",
    "ClientMutation",
    "Delegation",
    "FieldChange",
    "GroupCallMember",
    "GroupCallRoom",
    "Hl7Message",
    "Hl7Outbound",
    "Invite",
    "Location",
    "Patient",
    "PatientLink",
    "PatientList",
    "PatientListMember",
    "PhoneAttempt",
    "PresencePage",
    "PresenceRoom",
    "RefreshToken",
    "ServerProcess",
    "SystemClient",
    "Task",
    "TokenFamily",
    "User",
    "WaitingVisit",
]
