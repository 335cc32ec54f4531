"""More concurrent requests than worker threads: every one answered, none stuck on a lock."""

import asyncio

import httpx

from tests.server.server_process import create_user, empty_database, served

PASSWORD = "a long enough password"
#: Above AnyIO's 40 worker threads: without the request gate SQLite deadlocks until its timeout.
CONCURRENT = 60


async def _register_patients(base: str, token: str) -> list[int]:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=CONCURRENT)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as c:
        answers = await asyncio.gather(
            *(c.post("/patients", json={"name": f"P{n}"}) for n in range(CONCURRENT))
        )
    return [answer.status_code for answer in answers]


def test_concurrent_writes_all_succeed(database_url: str) -> None:
    url = empty_database(database_url)
    created = create_user(url, "clerk", "clerk", PASSWORD)
    assert created.returncode == 0, created.stderr
    with served(url) as base:
        login = httpx.post(f"{base}/auth/login", json={"username": "clerk", "password": PASSWORD})
        statuses = asyncio.run(_register_patients(base, login.json()["access_token"]))
    assert statuses == [201] * CONCURRENT
