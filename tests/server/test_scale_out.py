"""Three server processes on one PostgreSQL behind HAProxy (round-robin, no stickiness): presence,
call ownership and readiness hold whichever process a socket lands on, and when one is killed."""

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text

from server.database import create_db_engine
from server.schema import upgrade
from tests.polling import wait_until
from tests.server.conftest import PASSWORD, TEST_SECRET_KEY, Clinic
from tests.server.haproxy import balancer, haproxy_installed
from tests.server.mail_helpers import token_of
from tests.server.postgres import Cluster, postgres_bin, stoppable_cluster
from tests.server.reconnecting_socket import Socket
from tests.server.server_process import LiveServer

pytestmark = pytest.mark.skipif(
    postgres_bin() is None or not haproxy_installed(), reason="needs PostgreSQL and haproxy"
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    bin_dir = postgres_bin()
    assert bin_dir is not None
    with stoppable_cluster(bin_dir) as cluster:
        yield cluster


@pytest.fixture
def database_url(cluster: Cluster) -> Iterator[str]:
    """This module's own cluster (a test stops it): one migrated database."""
    admin = create_engine(
        f"{cluster.url}/postgres".replace("postgresql:", "postgresql+psycopg:"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS clinic WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE clinic"))
    admin.dispose()
    url = f"{cluster.url}/clinic"
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url


def _servers(url: str, count: int) -> list[LiveServer]:
    env = {"CLINIC_DESK_SECRET_KEY": TEST_SECRET_KEY}
    servers = [LiveServer(url, env) for _ in range(count)]
    starting = [threading.Thread(target=server.start) for server in servers]
    for thread in starting:
        thread.start()
    for thread in starting:
        thread.join()
    for server in servers:
        assert server.running, server.output()
    return servers


@pytest.fixture
def deployment(
    database_url: str, engine: Engine, clinic: Clinic
) -> Iterator[tuple[str, list[LiveServer], Clinic]]:
    # The appointment is an hour from now on the real clock (the servers run on it).
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE appointment SET start = :start"),
            {"start": datetime.now(UTC) + timedelta(hours=1)},
        )
    servers = _servers(database_url, 3)
    try:
        with balancer([server.port for server in servers]) as base:
            yield base, servers, clinic
    finally:
        for server in servers:
            output = server.output()
            server.close()
            if "Traceback" in output:  # shown when the test fails
                print(output[output.index("Traceback") - 500 :][:6000])  # noqa: T201


def _login(base: str, username: str) -> str:
    answer = httpx.post(f"{base}/auth/login", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def _desktop(base: str, username: str) -> Socket:
    ws = base.replace("http://", "ws://") + "/realtime"
    desk = Socket(ws, {"type": "auth", "access_token": _login(base, username)})
    desk.next("hello")
    return desk


def _patient(base: str, clinic: Clinic, appointment: str, owner: str) -> Socket:
    token = _login(base, owner)
    made = httpx.post(
        f"{base}/appointments/{clinic.ids[appointment]}/patient-link",
        json={},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert made.status_code == 201, made.text
    ws = base.replace("http://", "ws://") + "/patient/socket"
    page = Socket(ws, {"type": "auth", "token": token_of(made.json()["url"])})
    page.next("hello")
    return page


def _server(servers: list[LiveServer], name: str) -> LiveServer:
    assert name.startswith("s"), name
    return servers[int(name[1:])]


def test_presence_and_calls_hold_across_three_processes_and_a_kill(
    deployment: tuple[str, list[LiveServer], Clinic], engine: Engine
) -> None:
    base, servers, clinic = deployment
    appointment = str(clinic.ids["okafor_appointment"])
    # okafor's own desktop and ng's (okafor delegated to ng): wherever round-robin puts them.
    okafor, ng = _desktop(base, "okafor"), _desktop(base, "ng")
    page = _patient(base, clinic, "okafor_appointment", "okafor")
    arrived = {}
    for desk in (okafor, ng):
        event = desk.next("presence")
        assert (event["appointment_id"], event["state"]) == (appointment, "entered")
        arrived[desk] = event["at"]
    assert arrived[okafor] == arrived[ng]

    # Both desktops offer at once: exactly one has the call, the other hears who has it.
    offer = {"type": "signal", "appointment_id": appointment, "kind": "offer",
             "payload": {"sdp": "v=0"}}
    okafor.send(offer)
    ng.send(offer)
    relayed = page.next("signal")
    assert relayed["kind"] == "offer"
    refusals = [desk for desk in (okafor, ng) if _refused(desk)]
    assert len(refusals) == 1
    assert refusals[0].next("error", timeout=1)["code"] == "call_taken"
    with pytest.raises(AssertionError):
        page.next("signal", timeout=2)  # the second offer never reached the patient

    # The process holding the patient's socket dies (kill -9): the page reconnects through
    # the balancer to another, and once the dead process's lease has run out (its pages no
    # longer count) both desktops have the patient waiting, since the same time.
    killed = page.served_by
    cut_off = [socket for socket in (page, okafor, ng) if socket.served_by == killed]
    connections = {socket: socket.connections for socket in cut_off}
    _server(servers, killed).kill()
    for socket in cut_off:
        _wait_reconnected(socket, connections[socket])
    wait_until(lambda: _dead_pages(engine) == 0, what="the dead process's pages to go")
    for desk in (okafor, ng):
        _wait_presence(desk, appointment, ("entered", arrived[okafor]))

    # The process of the desktop that has the call dies during its set-up (kill -9): once
    # its lease has run out, the other desktop can start the call.
    winner = ng if refusals[0] is okafor else okafor
    loser = refusals[0]
    killed = winner.served_by
    cut_off = [socket for socket in (page, okafor, ng) if socket.served_by == killed]
    connections = {socket: socket.connections for socket in cut_off}
    _server(servers, killed).kill()
    for socket in cut_off:
        _wait_reconnected(socket, connections[socket])
    _offer_until_relayed(loser, page, offer)

    # A patient whose page does not come back (its process killed) does not stay waiting.
    first = next(server for server in servers if not server.running)
    first.start()  # one process must be left to notice
    page.reconnect = False
    last = page.served_by
    connections = {desk: desk.connections for desk in (okafor, ng) if desk.served_by == last}
    _server(servers, last).kill()
    for desk, before in connections.items():
        _wait_reconnected(desk, before)
    wait_until(lambda: "entered" not in (_state(okafor, appointment), _state(ng, appointment)),
               what="the patient to leave on both desktops")
    for socket in (okafor, ng, page):
        socket.close()


def _offer_until_relayed(desk: Socket, page: Socket, offer: dict[str, Any]) -> None:
    """Offer until the offer reaches the page (refused as taken until the owner is gone)."""
    deadline = time.monotonic() + 30
    while True:
        desk.send(offer)
        try:
            assert page.next("signal", timeout=2)["kind"] == "offer"
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise


def _wait_reconnected(socket: Socket, connections: int) -> None:
    def again() -> bool:
        return socket.connections > connections

    wait_until(again, what="the socket to reconnect through the balancer")


def _wait_presence(desk: Socket, appointment: str, expected: tuple[str, str]) -> None:
    def shown() -> bool:
        return desk.presence.get(appointment) == expected

    wait_until(shown, what=f"the desktop to show {expected}")


def _state(desk: Socket, appointment: str) -> str:
    return desk.presence.get(appointment, ("", ""))[0]


def _dead_pages(engine: Engine) -> int:
    """Waiting-room pages still held by processes whose lease ran out."""
    with engine.connect() as connection:
        return int(connection.execute(text(
            "SELECT count(*) FROM presence_page p WHERE p.until IS NULL AND NOT EXISTS "
            "(SELECT 1 FROM server_process s WHERE s.id = p.process_id AND s.expires_at > now())"
        )).scalar_one())


def _refused(desk: Socket) -> bool:
    """Whether `desk` was refused the call (its error is put back for the caller)."""
    try:
        event = desk.next("error", timeout=3)
    except AssertionError:
        return False
    desk.events.put(event)
    return True


def test_readiness_fails_while_the_database_is_stopped(
    deployment: tuple[str, list[LiveServer], Clinic], cluster: Cluster
) -> None:
    base, servers, _clinic = deployment
    assert httpx.get(f"{servers[0].url}/readyz").json() == {"status": "ready"}
    cluster.stop()
    try:
        answer = httpx.get(f"{servers[0].url}/readyz", timeout=10)
        assert answer.status_code == 503
        assert answer.json() == {"status": "unavailable", "reason": "the database does not answer"}
        # The balancer's checks take every process out: it answers 503 itself.
        wait_until(lambda: httpx.get(f"{base}/readyz", timeout=10).status_code == 503,
                   what="the balancer to take the processes out")
    finally:
        cluster.start()
    wait_until(lambda: httpx.get(f"{base}/readyz", timeout=10).status_code == 200,
               what="the balancer to send requests again")


def test_serve_with_workers_runs_that_many_processes(database_url: str, engine: Engine) -> None:
    server = LiveServer(database_url, {"CLINIC_DESK_SECRET_KEY": TEST_SECRET_KEY},
                        ("--workers", "2"))
    try:
        server.start()

        def leases() -> int:
            with engine.connect() as connection:
                return int(connection.execute(text(
                    "SELECT count(*) FROM server_process WHERE expires_at > now()"
                )).scalar_one())

        wait_until(lambda: leases() == 2, what="two worker processes to take their leases")
        assert httpx.get(f"{server.url}/readyz").json() == {"status": "ready"}
    finally:
        server.close()
    # A graceful stop ends the leases at once (their calls are free for the others).
    assert leases() == 0
