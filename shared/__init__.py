"""Pure-Python core of Clinic Desk: no Qt, no I/O. Shared by the desktop and the server."""
