"""Looking at processes from the outside (/proc): who are a process's children, is one gone."""

from pathlib import Path


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name is in parentheses and may hold spaces: split after its closing one.
    return text[text.rindex(")") + 2:].split()


def gone(pid: int) -> bool:
    """No such process, or only its zombie (it exited; its parent has not reaped it yet)."""
    fields = _stat(pid)
    return fields is None or fields[0] in ("Z", "X")


def children(pid: int) -> list[int]:
    """The live processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and fields[1] == str(pid) and fields[0] not in ("Z", "X"):
                found.append(int(entry.name))
    return found
