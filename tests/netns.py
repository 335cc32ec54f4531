"""A network namespace for a test: Janus and its peers talk over 127.0.0.2 on a veth inside it.

Janus leaves loopback interfaces out of its ICE candidates (FIELD-NOTES), so the tests give
it a veth holding 127.0.0.2/32 inside a namespace of their own: nothing in it can reach any
other network. Needs root (`ip netns`). A thread enters the namespace with setns(2); threads
and processes it starts meanwhile are born inside.
"""

import ctypes
import itertools
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

#: The address of the veth inside the namespace: what Janus and aiortc gather candidates on.
VETH_ADDRESS = "127.0.0.2"
VETH = "veth0"
_CLONE_NEWNET = 0x40000000
_numbers = itertools.count(1)
_libc = ctypes.CDLL(None, use_errno=True)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


def _setns(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.setns(fd, _CLONE_NEWNET) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"setns({path}): {os.strerror(error)}")
    finally:
        os.close(fd)


class NetNamespace:
    """A named namespace with lo up and veth0 = 127.0.0.2/32 (its peer veth1 up, no address)."""

    def __init__(self, name: str):
        self.name = name

    def command(self, *argv: str) -> list[str]:
        """`argv` run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *argv]

    @contextmanager
    def entered(self) -> Iterator[None]:
        """The calling thread inside the namespace until the block ends."""
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        try:
            _setns(f"/run/netns/{self.name}")
            try:
                yield
            finally:
                if _libc.setns(home, _CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "could not leave the test's namespace")
        finally:
            os.close(home)


@contextmanager
def net_namespace() -> Iterator[NetNamespace]:
    """A fresh namespace, deleted afterwards (skips the test without root or `ip`)."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 (ip netns) for the SFU's network namespace")
    name = f"cdtest-{os.getpid()}-{next(_numbers)}"
    _ip("netns", "add", name)
    try:
        _ip("-n", name, "link", "set", "lo", "up")
        _ip("-n", name, "link", "add", VETH, "type", "veth", "peer", "name", "veth1")
        _ip("-n", name, "addr", "add", f"{VETH_ADDRESS}/32", "dev", VETH)
        _ip("-n", name, "link", "set", VETH, "up")
        _ip("-n", name, "link", "set", "veth1", "up")
        yield NetNamespace(name)
    finally:
        _ip("netns", "delete", name)
