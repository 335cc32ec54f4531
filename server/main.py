"""Entry point of `clinic-desk-server`; the backend itself arrives with the backend issue."""

import sys


def main(argv: list[str] | None = None) -> int:
    """Say plainly that the server is not built yet instead of pretending to run."""
    sys.stderr.write(
        "clinic-desk-server: the hosted backend is not part of this version yet.\n"
        "Run the desktop on its local demo store with: clinic-desk --demo\n"
    )
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
