"""The demo clinic's invented people: name parts, notes, the reserved phone range, and the
embedded demo's clinician (known to the desktop before its server has started)."""

import uuid
from dataclasses import dataclass
from typing import Any

FIRST_NAMES = [
    "Olivia", "Noah", "Amelia", "Arjun", "Isla", "Mateo", "Freya", "Kwame", "Mia", "Yusuf",
    "Grace", "Leo", "Zara", "Ethan", "Chloe", "Hiro", "Ava", "Samuel", "Priya", "Oscar",
]
LAST_NAMES = [
    "Patel", "Okonkwo", "Smith", "Nguyen", "Garcia", "Kowalski", "Brown", "Haddad", "Jones",
    "Fischer", "Murphy", "Silva", "Tanaka", "Wilson", "Ahmed", "Rossi", "Evans", "Kim",
]
NOTES = [
    "", "", "", "Follow-up after blood results", "Medication review", "Interpreter: Polish",
    "Post-op check, wound photo requested", "First appointment", "", "Hearing impaired: use chat",
]


def demo_phone(number: int) -> str:
    """Ofcom's range reserved for drama: never a real subscriber."""
    return f"+44 20 7946 0{number:03d}"


DEMO_NAMESPACE = uuid.UUID("2b7f6a0e-5d1c-4c7e-8f0a-d3e1c4b5a6f7")
DEMO_CLINICIAN_USERNAME = "ng"
DEMO_CLINICIAN_NAME = "Dr Amara Ng"
DEMO_CLINICIAN_ID = uuid.uuid5(DEMO_NAMESPACE, DEMO_CLINICIAN_USERNAME)


@dataclass(frozen=True, slots=True)
class DemoArrival:
    """A simulated patient of the embedded demo: their link, and when (seconds after the
    demo's start) they enter the waiting room and give up waiting (None: they stay)."""

    appointment_id: uuid.UUID
    name: str
    link: str
    enter_after: float
    leave_after: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"appointment_id": str(self.appointment_id), "name": self.name,
                "link": self.link, "enter_after": self.enter_after,
                "leave_after": self.leave_after}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> "DemoArrival":
        leave = value.get("leave_after")
        return cls(uuid.UUID(str(value["appointment_id"])), str(value["name"]),
                   str(value["link"]), float(value["enter_after"]),
                   None if leave is None else float(leave))
