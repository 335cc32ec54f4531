"""Kamailio as the hospital's SIP trunk in the tests: a registrar and proxy on 127.0.0.2:5060
inside the test's network namespace.

Phones (baresip) register their numbers and are rung through it; the clinic's line may
register with a password (checked by digest, pv_www_authenticate). Two numbers answer for
themselves, as a carrier would: DECLINING_NUMBER gets 603 Decline; any number nobody
registered gets 404 Not Found.
"""

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.netns import VETH_ADDRESS, NetNamespace

SIP_PORT = 5060
DECLINING_NUMBER = "+442079460603"
#: The clinic line's account on the registrar.
CLINIC_USER = "clinic"
_MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules"


@dataclass
class Registrar:
    namespace: NetNamespace
    folder: Path
    password: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"sip:{VETH_ADDRESS}:{SIP_PORT}"

    @property
    def log(self) -> Path:
        return self.folder / "kamailio.log"

    def registered(self, user: str) -> bool:
        """Whether the log shows `user`'s REGISTER accepted."""
        return f"registered {user}" in self.log.read_text(errors="replace")


def _config(password: str) -> str:
    modules = "tm sl pv maxfwd usrloc registrar textops siputils xlog auth kex corex"
    loads = "\n".join(f'loadmodule "{name}.so"' for name in modules.split())
    return f"""#!KAMAILIO
debug=2
log_stderror=yes
memdbg=5
memlog=5
children=2
tcp_children=1
disable_tcp=yes
auto_aliases=no
listen=udp:{VETH_ADDRESS}:{SIP_PORT}
alias="{VETH_ADDRESS}"
mpath="{_MODULES}"
{loads}
modparam("usrloc", "db_mode", 0)

request_route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
    if (has_totag()) {{
        # Within a call (ACK, BYE, INFO, re-INVITE): on to the request URI, the other party
        # (no Record-Route: Janus sends everything through this proxy anyway).
        if (!t_relay()) {{ sl_reply_error(); }}
        exit;
    }}
    if (is_method("CANCEL")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
    t_check_trans();
    if (is_method("REGISTER")) {{
        if ($fU == "{CLINIC_USER}") {{
            if (!pv_www_authenticate("$td", "{password}", "0")) {{
                www_challenge("$td", "0");
                exit;
            }}
            consume_credentials();
        }}
        if (save("location")) {{ xlog("L_NOTICE", "registered $fU\\n"); }}
        exit;
    }}
    if ($rU == "{DECLINING_NUMBER}") {{ sl_send_reply("603", "Decline"); exit; }}
    if (!lookup("location")) {{ sl_send_reply("404", "Not Found"); exit; }}
    t_relay();
}}
"""


@contextmanager
def sip_registrar(namespace: NetNamespace, folder: Path, password: str) -> Iterator[Registrar]:
    """Kamailio running in `namespace` (skips when Debian's kamailio is missing)."""
    if shutil.which("kamailio") is None:
        pytest.skip("kamailio is not installed (apt-get install kamailio)")
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "kamailio.cfg"
    config.write_text(_config(password), encoding="utf-8")
    registrar = Registrar(namespace, folder, password)
    with registrar.log.open("ab") as log:
        registrar.process = subprocess.Popen(
            namespace.command(
                "kamailio", "-DD", "-E", "-f", str(config), "-Y", str(folder), "-m", "32",
                "-M", "8",
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while "SO_RCVBUF is finally" not in registrar.log.read_text(errors="replace"):
            assert registrar.process.poll() is None, registrar.log.read_text()[-3000:]
            assert time.monotonic() < deadline, "kamailio did not start"
            time.sleep(0.05)
        yield registrar
    finally:
        registrar.process.terminate()
        try:
            registrar.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            registrar.process.kill()
            registrar.process.wait()
