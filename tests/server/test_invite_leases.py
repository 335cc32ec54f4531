"""Invite workers of several server processes on one PostgreSQL: each invite is sent once."""

import asyncio
import threading
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from server.models.invite import Invite
from server.realtime.hub import Hub
from server.services import invites
from server.services.invite_sender import InviteSender
from server.settings import Settings
from shared.clock import FixedClock
from tests.polling import wait_until
from tests.server.conftest import NOW, Clinic

INVITES = 30


def test_three_workers_send_each_invite_exactly_once(
    database_url: str, settings: Settings, engine: Engine, clinic: Clinic, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("one SQLite file is served by one process: one worker")
    with Session(engine) as session:
        for number in range(INVITES):
            session.add(Invite(
                appointment_id=clinic.ids["ng_appointment"], batch=uuid4(),
                name=f"Patient {number}", email=f"p{number}@example.org",
                purpose="booked", status=invites.QUEUED, next_attempt_at=NOW, created_at=NOW,
            ))
        session.commit()
    mail = settings.model_copy(update={"mail_pickup_dir": str(tmp_path)})
    # Three processes' workers (each its own loop and thread), taking from one table at once.
    stop = threading.Event()
    workers = [InviteSender(engine, Hub(), mail, FixedClock(NOW)) for _ in range(3)]

    def run(worker: InviteSender) -> None:
        async def until_stopped() -> None:
            stopping = asyncio.Event()
            task = asyncio.create_task(worker.run(stopping))
            await asyncio.to_thread(stop.wait)
            stopping.set()
            await task

        asyncio.run(until_stopped())

    threads = [threading.Thread(target=run, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    try:
        def all_sent() -> bool:
            with Session(engine) as session:
                statuses = session.exec(select(Invite.status)).all()
            return statuses.count(invites.SENT) == INVITES

        wait_until(all_sent, what="every invite to be sent")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    with Session(engine) as session:
        attempts = session.exec(select(Invite.attempts).where(col(Invite.status) == "sent")).all()
    # A second worker taking an invite would have counted a second attempt.
    assert attempts == [1] * INVITES
    assert len(list(tmp_path.rglob("*.eml"))) == INVITES
