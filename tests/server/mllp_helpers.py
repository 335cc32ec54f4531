"""HL7 v2 test messages, and a blocking MLLP client over real TCP that reads whole ACKs."""

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import hl7
from hl7.client import CR, EB, SB

from tests.server.mail_helpers import DEADLINE


class MllpSender:
    """One TCP connection to an MLLP listener; `send` waits for the ACK of each message."""

    def __init__(self, port: int) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        self._buffer = b""

    def send_raw(self, data: bytes) -> None:
        self.socket.sendall(data)

    def read_ack(self) -> hl7.Message:
        while EB + CR not in self._buffer:
            chunk = self.socket.recv(65536)
            if not chunk:
                raise ConnectionError("the listener closed the connection")
            self._buffer += chunk
        frame, self._buffer = self._buffer.split(EB + CR, 1)
        assert frame.startswith(SB), frame
        return hl7.parse(frame[1:].decode())

    def send(self, message: str) -> hl7.Message:
        self.send_raw(SB + message.encode() + EB + CR)
        return self.read_ack()

    def closed_by_peer(self) -> bool:
        """True once the listener has closed its end (reads EOF)."""
        return self.socket.recv(1) == b""

    def close(self) -> None:
        self.socket.close()


@contextmanager
def sender(port: int) -> Iterator[MllpSender]:
    connection = MllpSender(port)
    try:
        yield connection
    finally:
        connection.close()


def ack_code(ack: hl7.Message) -> str:
    return str(ack["MSA.F1"])


def err_location(ack: hl7.Message) -> str:
    """ERR-2 as "SCH-11"."""
    return f"{ack['ERR.F2.R1.C1']}-{ack['ERR.F2.R1.C3']}"


def siu(
    event: str,
    control_id: str,
    placer: str = "P100",
    *,
    filler: str = "F100",
    start: str = "20261127100000",
    minutes: str = "20",
    clinician: str = "D100",
    type_code: str = "VIDEO",
    mrn: str = "MRN900",
    name: str = "Brien^Ada",
    birth: str = "19800214",
    email: str = "ada@example.org",
    version: str = "2.5.1",
    extra: str = "",
    **fields: Any,
) -> str:
    """An SIU message of `event`; `extra` adds segments (CR-separated)."""
    segments = [
        f"MSH|^~\\&|PAS|STMARYS|CLINICDESK|CLINIC|20261126080000||SIU^{event}^SIU_S12|"
        f"{control_id}|P|{version}",
        f"SCH|{placer}^PAS|{filler}^PAS|||||CHK^Check-up|{type_code}^Video visit|{minutes}|MIN|"
        f"^^{minutes}^{start}|||||||||||||||Booked",
        f"PID|1||{mrn}^^^STMARYS^MR~NHS55^^^NHS^NH||{name}||{birth}|F|||||"
        f"^PRN^PH^^^020^7946000~^NET^Internet^{email}",
        "RGS|1",
        f"AIP|1||{clinician}^Ng^Anna^^^^^^STMARYS|||{start}",
        "AIL|1||Clinic 4^^^St Mary's",
        "ZPI|custom|ignored",
    ]
    if extra:
        segments.append(extra)
    return "\r".join(segments)


def adt(event: str, control_id: str, mrn: str = "MRN900", *, name: str = "Brien^Ada",
        email: str = "ada.new@example.org") -> str:
    return "\r".join(
        [
            f"MSH|^~\\&|PAS|STMARYS|CLINICDESK|CLINIC|20261126080000||ADT^{event}^ADT_A01|"
            f"{control_id}|P|2.4",
            "EVN|A08|20261126080000",
            f"PID|1||{mrn}^^^STMARYS^MR||{name}||19800214|F|||||^NET^Internet^{email}",
            "PV1|1|O",
        ]
    )
