"""HL7 inbox cost without the network: SQL statements and CPU per SIU^S12, one at a time or batched.

Feeds S12 messages straight to server/integration/hl7_inbox.Inbox on a fresh SQLite file (with
the server's synchronous=FULL) or a throwaway PostgreSQL cluster, counts the statements each
message sends, and prints messages per second; `--profile` prints cProfile's top functions.

    .venv/bin/python bench/hl7_inbox_bench.py [--messages 2000] [--batch 1] [--postgres]
        [--profile [tottime]]
"""

import argparse
import cProfile
import json
import pstats
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import server_harness  # puts the repository on sys.path
from sqlalchemy import event
from sqlmodel import Session

from server.accounts_admin import add_user
from server.database import create_db_engine
from server.integration import interface_account
from server.integration.hl7_inbox import Inbox
from server.realtime.hub import Hub
from server.realtime.notify import install_session_events
from server.security.passwords import Passwords
from server.settings import Settings
from shared.enums import Role
from tests.server.mllp_helpers import siu


def _hl7_time(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S") + "+0000"


def run(postgres: bool, count: int, batch: int, profile: str) -> None:
    install_session_events()
    with server_harness.database(postgres) as url:
        engine = create_db_engine(url)
        now = datetime.now(UTC)
        with Session(engine) as session:
            add_user(session, Passwords(1, 8, 1), "ng", "Dr Ng", Role.CLINICIAN,
                     "a long enough password", now)
            session.commit()
        settings = Settings(database_url=url, hl7_clinicians={"D100": "ng"})
        inbox = Inbox(engine, Hub(), settings, interface_account.ensure(engine, now))
        statements = 0

        def _count(*_args: Any) -> None:
            nonlocal statements
            statements += 1

        event.listen(engine, "before_cursor_execute", _count)
        first = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        raws = [
            siu("S12", f"B{n}", f"P{n}", filler=f"F{n}", mrn=f"M{n}",
                start=_hl7_time(first + timedelta(minutes=20 * n))).encode()
            for n in range(count)
        ]
        profiler = cProfile.Profile() if profile else None
        if profiler is not None:
            profiler.enable()
        began, cpu = time.perf_counter(), time.process_time()
        for offset in range(0, count, batch):
            chunk = raws[offset:offset + batch]
            if batch == 1:
                acks = [inbox.handle(chunk[0], "127.0.0.1", now)]
            else:
                acks = inbox.handle_batch(chunk, "127.0.0.1", now)
            for ack in acks:
                if b"MSA|AA|" not in ack:
                    raise SystemExit(f"refused: {ack!r}")
        elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
        if profiler is not None:
            profiler.disable()
        engine.dispose()
    name = "PostgreSQL" if postgres else "SQLite"
    print(json.dumps({"database": name, "messages": count, "batch": batch}), end=" ")
    print(f"{count / elapsed:,.0f} msgs/s, {statements / count:.1f} statements/msg, "
          f"{cpu / count * 1000:.2f} ms CPU/msg (this process)")
    if profiler is not None:
        stats = pstats.Stats(profiler)
        # Unlike time on a shared machine, the work done is the same from run to run.
        print(f"{stats.total_calls / count:,.0f} Python function calls/msg")  # type: ignore[attr-defined]
        stats.sort_stats(profile).print_stats(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--profile", nargs="?", const="cumulative", default="",
                        help="print cProfile's top functions by this key (tottime, cumulative)")
    args = parser.parse_args()
    run(args.postgres, args.messages, args.batch, args.profile)


if __name__ == "__main__":
    main()
