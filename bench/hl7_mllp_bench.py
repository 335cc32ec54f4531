"""HL7 v2 throughput: 10,000 SIU^S12 over one MLLP connection, each ACKed after its commit.

Runs `clinic-desk-server serve --mllp-port` as its own process on a fresh SQLite file and on a
throwaway PostgreSQL cluster, sends the messages one after the other (each waits for its ACK,
as interface engines do) and prints messages per second and the ACK latency. With --window N
the sender keeps up to N messages in flight (a pipelining sender): the server then commits the
messages waiting on the connection together (one fsync for all) before their ACKs.

    .venv/bin/python bench/hl7_mllp_bench.py [--messages 10000] [--window 1]
        [--sqlite-only | --postgres-only]
"""

import argparse
import json
import os
import statistics
import time
from collections import deque
from datetime import UTC, datetime, timedelta

import server_harness  # puts the repository on sys.path

from tests.server.mllp_helpers import MllpSender, ack_code, sender, siu
from tests.server.postgres import free_port
from tests.server.server_process import create_user, served


def _hl7_time(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S") + "+0000"


def _framed(message: str) -> bytes:
    return b"\x0b" + message.encode() + b"\x1c\r"


def _send_all(hl7: MllpSender, messages: list[str], window: int) -> list[float]:
    """Send with up to `window` messages unacknowledged; each message's send-to-ACK time."""
    latencies: list[float] = []
    sent_at: deque[float] = deque()
    for number, message in enumerate(messages):
        if len(sent_at) == window:
            _check(hl7, number - window, sent_at, latencies)
        sent_at.append(time.perf_counter())
        hl7.send_raw(_framed(message))
    for number in range(len(messages) - len(sent_at), len(messages)):
        _check(hl7, number, sent_at, latencies)
    return latencies


def _check(hl7: MllpSender, number: int, sent_at: deque[float], latencies: list[float]) -> None:
    ack = hl7.read_ack()
    latencies.append(time.perf_counter() - sent_at.popleft())
    if ack_code(ack) != "AA" or str(ack["MSA.F2"]) != f"B{number}":
        raise SystemExit(f"message {number} refused or out of order: {ack}")


def run(postgres: bool, count: int, window: int) -> None:
    with server_harness.database(postgres) as url:
        assert create_user(url, "ng", "clinician", "a long enough password").returncode == 0
        port = free_port()
        first = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        first += timedelta(days=1)
        env = {"CLINIC_DESK_HL7_CLINICIANS": json.dumps({"D100": "ng"})}
        messages = [
            siu("S12", f"B{number}", f"P{number}", filler=f"F{number}", mrn=f"M{number}",
                start=_hl7_time(first + timedelta(minutes=20 * number)))
            for number in range(count)
        ]
        with served(url, "--mllp-port", str(port), env=env), sender(port) as hl7:
            began = time.perf_counter()
            latencies = _send_all(hl7, messages, window)
            elapsed = time.perf_counter() - began
    latencies.sort()
    name = "PostgreSQL" if postgres else "SQLite"
    print(f"{name:<10} {count} SIU^S12 over one connection, window {window}: "
          f"{count / elapsed:,.0f} msgs/s ({elapsed:.1f} s); ACK latency p50 "
          f"{statistics.median(latencies) * 1000:.1f} ms, "
          f"p95 {latencies[int(len(latencies) * 0.95)] * 1000:.1f} ms, "
          f"max {latencies[-1] * 1000:.1f} ms; load average {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--window", type=int, default=1,
                        help="messages in flight before waiting for an ACK")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--sqlite-only", action="store_true")
    only.add_argument("--postgres-only", action="store_true")
    args = parser.parse_args()
    if not args.postgres_only:
        run(False, args.messages, args.window)
    if not args.sqlite_only:
        run(True, args.messages, args.window)


if __name__ == "__main__":
    main()
