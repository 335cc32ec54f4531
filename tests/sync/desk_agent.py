"""A desktop's sync stack in its own process, for the tests that SIGKILL it at a fault point.

    python -m tests.sync.desk_agent STORE SERVER_URL USERNAME CLINICIAN_ID ACTION [ARGS]

Actions: `book N FIRST_SLOT` (N new patients, 10-minute slots tomorrow from 08:00 + FIRST_SLOT),
`sync`, `list` (prints JSON). Set CLINIC_DESK_KILL_AT to die at a fault point
(app/fault_points.py).
"""

import asyncio
import json
import sys
from datetime import timedelta
from pathlib import Path
from uuid import UUID

from app import fault_points
from tests.sync.desk import Desk, tomorrow_at


async def main(argv: list[str]) -> int:
    store, url, username, clinician, action, *args = argv
    desk = Desk(Path(store), url, username)
    try:
        if action == "book":
            count, first = int(args[0]), int(args[1])
            for number in range(first, first + count):
                start = tomorrow_at(8) + timedelta(minutes=10 * number)
                await desk.book(UUID(clinician), start, f"Patient {number:04d}", minutes=10)
                fault_points.reached("local-write")
        elif action == "sync":
            await desk.sign_in()
            await desk.sync()
        elif action == "list":
            found = await desk.appointments()
            print(json.dumps({  # noqa: T201 - the agent's answer to the test
                "pending": await desk.pending(),
                "appointments": sorted(
                    [a.patient.name, a.start.isoformat(), a.sync_state.value] for a in found
                ),
            }))
        return 0
    finally:
        await desk.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
