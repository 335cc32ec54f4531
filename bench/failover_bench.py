"""Benchmark: a server process killed (-9) behind HAProxy, three processes on one PostgreSQL.

Per round, a patient's page and a desktop are connected through the balancer; the process
holding the page is killed. Printed: how long the page took to reconnect (through the balancer
to another process), and whether the desktop still had the patient waiting since the same
arrival once the dead process's lease ran out; then, with a page that does not come back, how
long from the kill until the desktop heard "left" (issue 16: within ~5 s). The killed process
is restarted between rounds.

    .venv/bin/python bench/failover_bench.py [--rounds 3]
"""

import argparse
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import server_harness
from sqlalchemy import create_engine, text

from tests.server.haproxy import balancer
from tests.server.mail_helpers import token_of
from tests.server.postgres import postgres_bin, stoppable_cluster
from tests.server.reconnecting_socket import Socket
from tests.server.server_process import LiveServer

SECRET = "a benchmark secret of at least thirty-two characters"


def _start(servers: list[LiveServer]) -> None:
    threads = [threading.Thread(target=s.start) for s in servers if not s.running]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _until(condition: object, timeout: float = 60.0) -> float:
    """Seconds until `condition()` held (polled every 10 ms); raises after `timeout`."""
    started = time.monotonic()
    while not condition():  # type: ignore[operator]
        if time.monotonic() - started > timeout:
            raise SystemExit("timed out")
        time.sleep(0.01)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise SystemExit("PostgreSQL is not installed")
    reconnects: list[float] = []
    lefts: list[float] = []
    kept = 0
    with stoppable_cluster(bin_dir) as cluster:
        postgres = f"{cluster.url}/postgres".replace("postgresql:", "postgresql+psycopg:")
        admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE clinic"))
        admin.dispose()
        url = f"{cluster.url}/clinic"
        server_harness._migrate(url)
        today = datetime.now(UTC)
        seeded = server_harness.seed(url, 2 * args.rounds, 2 * args.rounds, 1, today)
        engine = create_engine(url.replace("postgresql:", "postgresql+psycopg:"))
        with engine.begin() as connection:
            connection.execute(text("UPDATE appointment SET start = :s"),
                               {"s": today + timedelta(hours=1)})
        servers = [LiveServer(url, {"CLINIC_DESK_SECRET_KEY": SECRET}) for _ in range(3)]
        _start(servers)
        try:
            with balancer([s.port for s in servers]) as base:
                login = {"username": "dr.bench", "password": server_harness.PASSWORD}
                token = httpx.post(f"{base}/auth/login", json=login).json()["access_token"]
                ws = base.replace("http://", "ws://")
                desk = Socket(f"{ws}/realtime", {"type": "auth", "access_token": token})
                desk.next("hello")
                for number in range(2 * args.rounds):
                    appointment = str(seeded.appointments[number])
                    made = httpx.post(f"{base}/appointments/{appointment}/patient-link", json={},
                                      headers={"Authorization": f"Bearer {token}"})
                    made.raise_for_status()
                    page = Socket(f"{ws}/patient/socket",
                                  {"type": "auth", "token": token_of(made.json()["url"])})
                    page.next("hello")
                    _until(lambda a=appointment: a in desk.presence)
                    arrived = desk.presence[appointment]
                    comes_back = number % 2 == 0
                    page.reconnect = comes_back
                    victim = servers[int(page.served_by[1:])]
                    before = page.connections
                    killed_at = time.monotonic()
                    victim.kill()
                    if comes_back:
                        reconnects.append(_until(lambda p=page, b=before: p.connections > b))

                        def lapsed() -> bool:
                            with engine.connect() as c:
                                live = c.execute(text(
                                    "SELECT count(*) FROM server_process WHERE expires_at > now()"
                                )).scalar_one()
                            return int(live) == 2
                        _until(lapsed)
                        time.sleep(1.5)  # a sweep or so after the lease ran out
                        kept += desk.presence.get(appointment) == arrived
                    else:
                        _until(lambda a=appointment: desk.presence.get(a, ("",))[0] != "entered")
                        lefts.append(time.monotonic() - killed_at)
                    page.close()
                    _start(servers)
                desk.close()
        finally:
            for server in servers:
                server.close()
            engine.dispose()
    print(f"Failover, 3 processes behind HAProxy on PostgreSQL, {args.rounds} rounds each")
    print(f"  page reconnected through the balancer: median {statistics.median(reconnects):.2f} s,"
          f" max {max(reconnects):.2f} s")
    print(f"  patient still waiting since the same arrival after the lease ran out: "
          f"{kept} of {len(reconnects)}")
    print(f"  page not coming back: 'left' heard after median {statistics.median(lefts):.2f} s, "
          f"max {max(lefts):.2f} s (lease 3 s + sweep 1 s; target ~5 s)")


if __name__ == "__main__":
    main()
