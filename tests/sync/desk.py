"""A desktop's sync stack without Qt (store + API client + engine), as the tests drive it."""

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import Future
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from app.store.local_store import LocalStore
from app.sync.api_client import ApiClient
from app.sync.backoff import Backoff
from app.sync.sync_engine import SyncEngine
from app.sync.sync_status import SyncStatus
from app.sync.token_store import TokenStore
from shared.clock import Clock, ServerClock
from shared.drafts import AppointmentDraft, PatientDraft
from shared.enums import AppointmentKind
from shared.records import Appointment, Participant
from shared.sync_protocol import MAX_PULL
from tests.sync.live_server import PASSWORD

T = TypeVar("T")


def tomorrow_at(hour: int, minute: int = 0) -> datetime:
    day = datetime.now(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


async def done(future: "Future[T]") -> T:
    return await asyncio.wrap_future(future)


class Desk:
    """One desktop: its own store file, signed in as `username` on `server_url`."""

    def __init__(self, path: Path, server_url: str, username: str,
                 clock: Clock | None = None, page_size: int = MAX_PULL,
                 backoff: Backoff | None = None) -> None:
        self.store = LocalStore(path, clock or Clock())
        self.api = ApiClient(server_url, username, TokenStore())
        self.statuses: list[SyncStatus] = []
        server_clock = clock if isinstance(clock, ServerClock) else None
        self.engine = SyncEngine(self.store, self.api, self.statuses.append,
                                 on_server_time=server_clock.observe if server_clock else None,
                                 backoff=backoff or Backoff(base=0.05, cap=0.5),
                                 page_size=page_size)

    async def sign_in(self) -> None:
        await self.api.login(PASSWORD)

    async def sync(self) -> None:
        await self.engine.sync_now()

    async def book(self, clinician_id: UUID, start: datetime, patient: str,
                   minutes: int = 15, guests: tuple[str, ...] = ()) -> Appointment:
        """A video appointment, or a group one with `guests` (names) invited as well."""
        draft = AppointmentDraft(
            patient=PatientDraft(name=patient, email=f"{patient.split()[0].lower()}@example.org"),
            clinician_id=clinician_id, start=start, duration_minutes=minutes,
            kind=AppointmentKind.GROUP if guests else AppointmentKind.VIDEO,
            participants=[Participant(name, f"guest{n}@example.org")
                          for n, name in enumerate(guests, 1)],
        )
        return await done(self.store.save_appointment(draft))

    async def edit(self, appointment: Appointment, **changes: Any) -> Appointment:
        """Save `appointment` with `changes` (start, duration_minutes, notes, ...)."""
        patient = appointment.patient
        fields: dict[str, Any] = {
            "patient": PatientDraft(name=patient.name, email=patient.email, id=patient.id,
                                    phone=patient.phone, mrn=patient.mrn),
            "clinician_id": appointment.clinician.id,
            "start": appointment.start,
            "duration_minutes": appointment.duration_minutes,
            "kind": appointment.kind,
            "location_id": appointment.location.id if appointment.location else None,
            "notes": appointment.notes,
            "id": appointment.id,
        } | changes
        return await done(self.store.save_appointment(AppointmentDraft(**fields)))

    async def appointment(self, appointment_id: UUID) -> Appointment:
        return await done(self.store.get_appointment(appointment_id))

    async def appointments(self) -> list[Appointment]:
        far = timedelta(days=400)
        now = datetime.now(UTC)
        return await done(self.store.appointments_between(now - far, now + far))

    async def pending(self) -> int:
        return await done(self.store.pending_count())

    async def close(self) -> None:
        await self.engine.stop()
        await self.api.close()
        self.store.close()


async def server_view(tmp_path: Path, url: str) -> list[list[str]]:
    """Dr Ng's schedule as the server has it, pulled into a fresh store: [patient, start,
    state] sorted."""
    path = tmp_path / "server-view.sqlite3"
    desk = Desk(path, url, "ng")
    try:
        await desk.sign_in()
        await desk.sync()
        return sorted([a.patient.name, a.start.isoformat(), a.sync_state.value]
                      for a in await desk.appointments())
    finally:
        await desk.close()
        for leftover in tmp_path.glob("server-view.sqlite3*"):
            leftover.unlink()


@asynccontextmanager
async def signed_in_desks(
    tmp_path: Path, url: str, *usernames: str
) -> AsyncIterator[list[Desk]]:
    """One desktop per username, each signed in and synced once; closed afterwards."""
    desks = [Desk(tmp_path / f"{n}-{name}.sqlite3", url, name) for n, name in enumerate(usernames)]
    try:
        for desk in desks:
            await desk.sign_in()
            await desk.sync()
        yield desks
    finally:
        for desk in desks:
            await desk.close()
