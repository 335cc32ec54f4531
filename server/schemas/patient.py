"""What the patient's page gets: the appointment as the patient may see it, and its link body."""

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from server.realtime.patient_protocol import MAX_WAITING_MESSAGE
from server.security.link_tokens import MAX_TOKEN_LENGTH
from shared.enums import AppointmentKind
from shared.validation import text_problem


class JoinRequest(BaseModel):
    token: str = Field(min_length=1, max_length=MAX_TOKEN_LENGTH)


class PatientAppointment(BaseModel):
    """Only what the link's holder needs: no ids, no notes, no other patients."""

    name: str
    kind: AppointmentKind
    start: datetime
    end: datetime
    #: The start and end on the clinic's wall clock, as a sentence.
    when: str
    time_zone: str
    clinician: str
    hospital: str
    address: str
    clinic_phone: str
    waiting_threshold_minutes: int
    heartbeat_seconds: float


class PatientLinkOut(BaseModel):
    """A fresh link for staff to pass on (the token is shown only in this answer)."""

    url: str
    recipient: int
    valid_until: datetime


class PatientLinkRequest(BaseModel):
    #: 0: the patient; n: the group appointment's participant n (its position + 1).
    recipient: int = Field(default=0, ge=0, le=1000)


class WaitingMessageIn(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_WAITING_MESSAGE)

    @field_validator("text")
    @classmethod
    def _no_control_characters(cls, value: str) -> str:
        # Shown on the patient's page: line breaks fold into spaces, other controls are refused.
        problem = text_problem(value, "the message", multiline=True)
        if problem is not None:
            raise ValueError(problem)
        return value
