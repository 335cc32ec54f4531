"""A Janus configuration folder (`janus -F <folder>`) for group and phone calls: what Clinic Desk
needs.

Only the HTTP and WebSocket transports, and only the VideoRoom, AudioBridge and TextRoom
plugins (and the SIP plugin when phone calls are on) are loaded; no admin API is opened. The
server talks to Janus with the API secret; browsers and desktops carry a signed token
(token_auth_secret) the server mints per participant; rooms can be created only with the room
key (each plugin's admin_key). All three secrets stay on the server, like the SIP trunk's.
"""

from dataclasses import dataclass
from pathlib import Path

#: The plugins a group call uses; every other one Debian ships stays unloaded.
PLUGINS = ("janus.plugin.videoroom", "janus.plugin.audiobridge", "janus.plugin.textroom")
#: The SIP plugin: phone calls, driven by the server only (no participant token names it).
SIP_PLUGIN = "janus.plugin.sip"
_UNUSED_PLUGINS = (
    "libjanus_duktape.so,libjanus_echotest.so,libjanus_lua.so,libjanus_nosip.so,"
    "libjanus_recordplay.so,libjanus_streaming.so,libjanus_videocall.so,"
    "libjanus_voicemail.so"
)
_UNUSED_TRANSPORTS = "libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so"


@dataclass(frozen=True, slots=True)
class JanusConfig:
    """Where Janus listens and the secrets it checks."""

    #: Address the HTTP and WebSocket servers bind to.
    bind_ip: str
    http_port: int
    ws_port: int
    api_secret: str
    #: Signs participants' tokens (HMAC-SHA1, Janus's token_auth_secret).
    token_secret: str
    #: Creating, editing and destroying rooms needs it (the plugins' admin_key).
    room_key: str
    #: Interfaces or addresses ICE candidates are gathered on (empty: all but loopback).
    ice_enforce_list: str = ""
    rtp_port_range: str = "20000-40000"
    debug_level: int = 4
    #: The address the SIP plugin binds and puts in its SDP towards the trunk (empty: no SIP
    #: plugin, phone calls off).
    sip_local_ip: str = ""


def _quote(value: str) -> str:
    if '"' in value or "\\" in value or "\n" in value:
        raise ValueError("Janus settings cannot hold quotes, backslashes or line breaks")
    return f'"{value}"'


def _core(config: JanusConfig, folder: Path) -> str:
    enforce = config.ice_enforce_list
    nat = f"\tice_enforce_list = {_quote(enforce)}\n" if enforce else ""
    return (
        "general: {\n"
        f"\tconfigs_folder = {_quote(str(folder))}\n"
        '\tplugins_folder = "/usr/lib/x86_64-linux-gnu/janus/plugins"\n'
        '\ttransports_folder = "/usr/lib/x86_64-linux-gnu/janus/transports"\n'
        '\tevents_folder = "/usr/lib/x86_64-linux-gnu/janus/events"\n'
        '\tloggers_folder = "/usr/lib/x86_64-linux-gnu/janus/loggers"\n'
        f"\tdebug_level = {config.debug_level}\n"
        f"\tapi_secret = {_quote(config.api_secret)}\n"
        "\ttoken_auth = true\n"
        f"\ttoken_auth_secret = {_quote(config.token_secret)}\n"
        '\tserver_name = "Clinic Desk SFU"\n'
        "\tsession_timeout = 60\n"
        "}\n"
        "media: {\n"
        f"\trtp_port_range = {_quote(config.rtp_port_range)}\n"
        "\tslowlink_threshold = 4\n"
        "}\n"
        f"nat: {{\n{nat}}}\n"
        f'plugins: {{\n\tdisable = "{_disabled_plugins(config)}"\n}}\n'
        f'transports: {{\n\tdisable = "{_UNUSED_TRANSPORTS}"\n}}\n'
        "events: {\n\tbroadcast = false\n}\n"
        'loggers: {\n\tdisable = "libjanus_jsonlog.so"\n}\n'
    )


def _disabled_plugins(config: JanusConfig) -> str:
    return _UNUSED_PLUGINS if config.sip_local_ip else f"{_UNUSED_PLUGINS},libjanus_sip.so"


def _sip_plugin(config: JanusConfig) -> str:
    # No keepalive OPTIONS and no NAT guessing: the trunk is on the hospital's network.
    return (
        "general: {\n"
        f"\tlocal_ip = {_quote(config.sip_local_ip)}\n"
        "\tkeepalive_interval = 0\n"
        "\tbehind_nat = false\n"
        '\tuser_agent = "Clinic Desk"\n'
        "\tregister_ttl = 3600\n"
        f"\trtp_port_range = {_quote(config.rtp_port_range)}\n"
        "\tsip_timer_t1x64 = 32000\n"
        "\tevents = false\n"
        "}\n"
    )


def _http(config: JanusConfig) -> str:
    ip = _quote(config.bind_ip)
    return (
        "general: {\n"
        '\tjson = "plain"\n\tbase_path = "/janus"\n\thttp = true\n'
        f"\tport = {config.http_port}\n\tip = {ip}\n\thttps = false\n"
        "}\n"
        # No admin API: tokens are signed, rooms are managed through the plugins.
        "admin: {\n\tadmin_http = false\n\tadmin_https = false\n}\n"
        "cors: {\n}\n"
    )


def _websockets(config: JanusConfig) -> str:
    return (
        "general: {\n"
        '\tjson = "plain"\n\tws = true\n'
        f"\tws_port = {config.ws_port}\n\tws_ip = {_quote(config.bind_ip)}\n\twss = false\n"
        "}\n"
        "admin: {\n\tadmin_ws = false\n\tadmin_wss = false\n}\n"
    )


def _room_plugin(config: JanusConfig) -> str:
    # String ids: a room is named from its appointment; the key locks creation to the server.
    return (
        "general: {\n"
        f"\tadmin_key = {_quote(config.room_key)}\n"
        "\tlock_rtp_forward = true\n"
        "\tstring_ids = true\n"
        "}\n"
    )


def write_config(config: JanusConfig, folder: Path) -> Path:
    """Writes the .jcfg files into `folder` (created if needed); returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "janus.jcfg": _core(config, folder),
        "janus.transport.http.jcfg": _http(config),
        "janus.transport.websockets.jcfg": _websockets(config),
        "janus.plugin.videoroom.jcfg": _room_plugin(config),
        "janus.plugin.audiobridge.jcfg": _room_plugin(config),
        "janus.plugin.textroom.jcfg": _room_plugin(config),
    }
    if config.sip_local_ip:
        files["janus.plugin.sip.jcfg"] = _sip_plugin(config)
    for name, text in files.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)
    return folder
