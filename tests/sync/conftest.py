"""Fixtures of the sync tests: a real server on loopback with a seeded clinic."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.server_process import LiveServer
from tests.sync.live_server import LiveClinic, seed_clinic


@pytest.fixture
def clinic_db(tmp_path: Path) -> tuple[str, LiveClinic]:
    url = f"sqlite:///{tmp_path / 'server.sqlite3'}"
    return url, seed_clinic(url)


@pytest.fixture
def live(clinic_db: tuple[str, LiveClinic]) -> Iterator[LiveServer]:
    server = LiveServer(clinic_db[0])
    server.start()
    yield server
    server.close()


@pytest.fixture
def clinic(clinic_db: tuple[str, LiveClinic]) -> LiveClinic:
    return clinic_db[1]
