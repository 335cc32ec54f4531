"""Two refreshes with one token at the same time (a retry racing its original): both get the
same pair, and the session lives on. Over real HTTP, on both databases."""

import threading

import httpx
from sqlalchemy import Engine

from server.app import create_app
from server.settings import Settings
from shared.clock import FixedClock
from tests.server.conftest import Clinic
from tests.server.live_server import live
from tests.server.postgres import free_port


def _race(base: str, token: str) -> list[httpx.Response]:
    start = threading.Barrier(2)
    answers: list[httpx.Response] = []

    def refresh() -> None:
        start.wait()
        answers.append(
            httpx.post(f"{base}/auth/refresh", json={"refresh_token": token}, timeout=30)
        )

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_concurrent_refreshes_with_one_token_get_the_same_pair(
    settings: Settings, engine: Engine, clock: FixedClock, clinic: Clinic
) -> None:
    with live(create_app(settings, engine, clock), free_port()) as base:
        for round_ in range(3):
            answers = _race(base, clinic.refresh["ng"])
            assert [answer.status_code for answer in answers] == [200, 200], round_
            pairs = {answer.json()["refresh_token"] for answer in answers}
            assert len(pairs) == 1
            clinic.refresh["ng"] = pairs.pop()
            me = httpx.get(
                f"{base}/users/me",
                headers={"Authorization": f"Bearer {answers[0].json()['access_token']}"},
            )
            assert me.status_code == 200
