"""HL7 v2 throughput: 10,000 SIU^S12 over one MLLP connection, each ACKed after its commit.

Runs `clinic-desk-server serve --mllp-port` as its own process on a fresh SQLite file and on a
throwaway PostgreSQL cluster, sends the messages one after the other (each waits for its ACK,
as interface engines do) and prints messages per second and the ACK latency.

    .venv/bin/python bench/hl7_mllp_bench.py [--messages 10000] [--sqlite-only]
"""

import argparse
import json
import statistics
import time
from datetime import UTC, datetime, timedelta

import server_harness  # puts the repository on sys.path

from tests.server.mllp_helpers import ack_code, sender, siu
from tests.server.postgres import free_port
from tests.server.server_process import create_user, served


def _hl7_time(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S") + "+0000"


def run(postgres: bool, count: int) -> None:
    with server_harness.database(postgres) as url:
        assert create_user(url, "ng", "clinician", "a long enough password").returncode == 0
        port = free_port()
        first = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        first += timedelta(days=1)
        env = {"CLINIC_DESK_HL7_CLINICIANS": json.dumps({"D100": "ng"})}
        with served(url, "--mllp-port", str(port), env=env), sender(port) as hl7:
            latencies = []
            began = time.perf_counter()
            for number in range(count):
                start = first + timedelta(minutes=20 * number)
                message = siu("S12", f"B{number}", f"P{number}", filler=f"F{number}",
                              mrn=f"M{number}", start=_hl7_time(start))
                sent = time.perf_counter()
                ack = hl7.send(message)
                latencies.append(time.perf_counter() - sent)
                if ack_code(ack) != "AA":
                    raise SystemExit(f"message {number} refused: {ack}")
            elapsed = time.perf_counter() - began
    latencies.sort()
    name = "PostgreSQL" if postgres else "SQLite"
    print(f"{name:<10} {count} SIU^S12 over one connection: {count / elapsed:,.0f} msgs/s "
          f"({elapsed:.1f} s); ACK latency p50 {statistics.median(latencies) * 1000:.1f} ms, "
          f"p95 {latencies[int(len(latencies) * 0.95)] * 1000:.1f} ms, "
          f"max {latencies[-1] * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    run(False, args.messages)
    if not args.sqlite_only:
        run(True, args.messages)


if __name__ == "__main__":
    main()
