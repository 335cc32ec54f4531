"""Machine policy: sources per platform, checks key by key, and policy > user > default."""

import logging
import plistlib
from pathlib import Path
from typing import Any

import pytest

from app.policy.checked import checked_policy
from app.policy.effective import EffectiveSetting, Source, effective_settings
from app.policy.errors import InvalidPolicyValue, UnreadablePolicy
from app.policy.keys import POLICY_KEYS, defaults, validate
from app.policy.linux_file import DEFAULT_PATH, PATH_VARIABLE, policy_path, read_policy_file
from app.policy.machine_policy import load_machine_policy
from app.policy.macos_plist import read_managed_preferences
from app.policy.windows_registry import (
    REG_DWORD,
    REG_MULTI_SZ,
    REG_SZ,
    from_registry_values,
)

DEFAULTS: dict[str, Any] = {
    "server_url": "",
    "ice_interfaces": [],
    "idle_lock_minutes": 0,
    "allow_test_pattern": False,
}
POLICY_NOTE = "Set by your organisation (the machine policy); ask IT to change it."


@pytest.mark.parametrize(
    ("policy", "user", "key", "expected"),
    [
        # nothing set anywhere: the default
        ({}, {}, "idle_lock_minutes", EffectiveSetting(0, Source.DEFAULT)),
        # the user's choice beats the default
        ({}, {"idle_lock_minutes": 5}, "idle_lock_minutes", EffectiveSetting(5, Source.USER)),
        # the policy beats the user, and is locked with a note
        (
            {"idle_lock_minutes": 10}, {"idle_lock_minutes": 5}, "idle_lock_minutes",
            EffectiveSetting(10, Source.POLICY, POLICY_NOTE),
        ),
        # a policy of "false" still wins (falsy is not "unset")
        (
            {"allow_test_pattern": False}, {"allow_test_pattern": True},
            "allow_test_pattern", EffectiveSetting(False, Source.POLICY, POLICY_NOTE),
        ),
        # an empty list from the policy wins too
        (
            {"ice_interfaces": []}, {"ice_interfaces": ["eth0"]}, "ice_interfaces",
            EffectiveSetting([], Source.POLICY, POLICY_NOTE),
        ),
        # an invalid policy value is skipped: the user's value applies
        (
            {"idle_lock_minutes": "ten"}, {"idle_lock_minutes": 5}, "idle_lock_minutes",
            EffectiveSetting(5, Source.USER),
        ),
        # invalid policy and invalid user value: the default
        (
            {"server_url": "ftp://x"}, {"server_url": 42}, "server_url",
            EffectiveSetting("", Source.DEFAULT),
        ),
        # values are normalised on the way (trailing slash)
        (
            {}, {"server_url": "https://desk.example.org/"}, "server_url",
            EffectiveSetting("https://desk.example.org", Source.USER),
        ),
        # the policy sets one key; the others keep their own precedence
        (
            {"server_url": "https://desk.example.org"}, {"idle_lock_minutes": 3},
            "idle_lock_minutes", EffectiveSetting(3, Source.USER),
        ),
    ],
)
def test_precedence(
    policy: dict[str, object], user: dict[str, object], key: str, expected: EffectiveSetting
) -> None:
    result = effective_settings(policy, user, DEFAULTS)
    assert result[key] == expected
    assert result[key].locked is (expected.source is Source.POLICY)


def test_every_default_key_is_answered_and_strangers_are_not() -> None:
    result = effective_settings({"bogus": 1}, {"other": 2}, DEFAULTS)
    assert set(result) == set(DEFAULTS)
    assert all(setting.source is Source.DEFAULT for setting in result.values())


def test_the_note_names_where_the_policy_lives() -> None:
    result = effective_settings(
        {"server_url": "https://desk.example.org"}, {}, DEFAULTS,
        policy_location=r"HKLM\SOFTWARE\Policies\ClinicDesk",
    )
    assert result["server_url"].locked
    assert r"HKLM\SOFTWARE\Policies\ClinicDesk" in result["server_url"].note


def test_defaults_cover_every_key_and_are_not_shared() -> None:
    first = defaults()
    assert set(first) == set(POLICY_KEYS)
    first["ice_interfaces"].append("eth0")
    assert defaults()["ice_interfaces"] == []
    for name, value in defaults().items():
        # "" (no server yet) is a default only: a policy or user cannot set it.
        assert isinstance(value, POLICY_KEYS[name].kind)


@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [
        ("server_url", "https://desk.example.org/", "https://desk.example.org"),
        ("server_url", " https://desk.example.org:8443/api ", "https://desk.example.org:8443/api"),
        ("server_url", "http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("ice_interfaces", ["eth0", " 10.1.2.3 "], ["eth0", "10.1.2.3"]),
        ("turn_servers", ["turns:turn.example.org:5349", "turn:10.0.0.1?transport=udp"],
         ["turns:turn.example.org:5349", "turn:10.0.0.1?transport=udp"]),
        ("allow_test_pattern", True, True),
        ("relay_only", True, True),
        ("idle_lock_minutes", 0, 0),
        ("idle_lock_minutes", 1440, 1440),
    ],
)
def test_valid_values(key: str, raw: object, expected: object) -> None:
    assert validate(key, raw) == expected


@pytest.mark.parametrize(
    ("key", "raw", "message"),
    [
        ("server_url", "http://desk.example.org", "must start with https://"),
        ("server_url", "desk.example.org", "not a URL with a host"),
        ("server_url", ["https://x"], "must be a text URL"),
        ("ice_interfaces", "eth0", "must be a list"),
        ("ice_interfaces", ["eth0", ""], "not a non-empty text"),
        ("ice_interfaces", ["eth0", 3], "not a non-empty text"),
        ("ice_interfaces", [f"eth{i}" for i in range(33)], "at most 32"),
        ("turn_servers", ["stun:stun.example.org"], "not a TURN URI"),
        ("turn_servers", ["turn:host?transport=sctp"], "not a TURN URI"),
        ("allow_test_pattern", 1, "must be true or false"),
        ("allow_test_pattern", "yes", "must be true or false"),
        ("relay_only", "always", "must be true or false"),
        ("idle_lock_minutes", True, "whole number"),
        ("idle_lock_minutes", 2.5, "whole number"),
        ("idle_lock_minutes", -1, "outside 0..1440"),
        ("idle_lock_minutes", 1441, "outside 0..1440"),
        ("no_such_key", 1, "not a Clinic Desk setting"),
    ],
)
def test_invalid_values(key: str, raw: object, message: str) -> None:
    with pytest.raises(InvalidPolicyValue, match=message):
        validate(key, raw)


def test_checked_policy_drops_bad_keys_one_by_one(caplog: pytest.LogCaptureFixture) -> None:
    raw = {
        "server_url": "https://desk.example.org",
        "idle_lock_minutes": "15",
        "turn_servers": ["turns:turn.example.org"],
        "colour": "blue",
    }
    with caplog.at_level(logging.WARNING, logger="clinicdesk.policy"):
        kept = checked_policy(raw, "/etc/clinic-desk/policy.toml")
    assert kept == {
        "server_url": "https://desk.example.org",
        "turn_servers": ["turns:turn.example.org"],
    }
    messages = [record.getMessage() for record in caplog.records]
    assert any("ignoring idle_lock_minutes" in m and "whole number" in m for m in messages)
    assert any("unknown key 'colour'" in m for m in messages)


def test_linux_policy_path_is_overridable() -> None:
    assert policy_path({}) == DEFAULT_PATH
    assert policy_path({PATH_VARIABLE: "/tmp/p.toml"}) == Path("/tmp/p.toml")


def test_linux_policy_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        'server_url = "https://desk.example.org"\n'
        'ice_interfaces = ["eth0"]\n'
        "allow_test_pattern = true\n"
        "idle_lock_minutes = 1.5\n"
    )
    policy = load_machine_policy("linux", {PATH_VARIABLE: str(path)})
    assert policy.location == str(path)
    assert policy.values == {
        "server_url": "https://desk.example.org",
        "ice_interfaces": ["eth0"],
        "allow_test_pattern": True,
    }


def test_no_policy_file_is_no_policy(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    policy = load_machine_policy("linux", {PATH_VARIABLE: str(tmp_path / "absent.toml")})
    assert policy.values == {}
    assert caplog.records == []


@pytest.mark.parametrize(
    "content", [b"server_url = https://unquoted\n", b"\xff\xfe not utf-8", b"[a\n"]
)
def test_malformed_policy_file_is_logged_and_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes
) -> None:
    path = tmp_path / "policy.toml"
    path.write_bytes(content)
    with pytest.raises(UnreadablePolicy, match="not valid TOML"):
        read_policy_file(path)
    with caplog.at_level(logging.ERROR, logger="clinicdesk.policy"):
        policy = load_machine_policy("linux", {PATH_VARIABLE: str(path)})
    assert policy.values == {}
    assert any(
        "machine policy ignored" in r.getMessage() and str(path) in r.getMessage()
        for r in caplog.records
    )


def test_unreadable_policy_file_is_logged_and_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "policy.toml"
    folder.mkdir()  # reading a directory fails like a permission problem would
    with caplog.at_level(logging.ERROR, logger="clinicdesk.policy"):
        assert load_machine_policy("linux", {PATH_VARIABLE: str(folder)}).values == {}
    assert any("cannot read" in r.getMessage() for r in caplog.records)


def test_macos_managed_preferences(tmp_path: Path) -> None:
    path = tmp_path / "org.clinicdesk.ClinicDesk.plist"
    path.write_bytes(plistlib.dumps({
        "PayloadUUID": "5B1D…",
        "server_url": "https://desk.example.org",
        "turn_servers": ["turns:turn.example.org:443?transport=tcp"],
        "idle_lock_minutes": 20,
        "allow_test_pattern": "no",
    }))
    assert "PayloadUUID" not in read_managed_preferences(path)
    policy = load_machine_policy("darwin", {}, macos_path=path)
    assert policy.location == str(path)
    assert policy.values == {
        "server_url": "https://desk.example.org",
        "turn_servers": ["turns:turn.example.org:443?transport=tcp"],
        "idle_lock_minutes": 20,
    }


@pytest.mark.parametrize("content", [b"not a plist", plistlib.dumps(["a", "list"])])
def test_malformed_managed_preferences_are_ignored(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "prefs.plist"
    path.write_bytes(content)
    assert load_machine_policy("darwin", {}, macos_path=path).values == {}


@pytest.mark.parametrize(
    ("triple", "expected"),
    [
        (("server_url", "https://desk.example.org", REG_SZ), "https://desk.example.org"),
        (("allow_test_pattern", 1, REG_DWORD), True),
        (("allow_test_pattern", 0, REG_DWORD), False),
        (("allow_test_pattern", 2, REG_DWORD), 2),  # left for validation to refuse
        (("ice_interfaces", ["Ethernet", "Wi-Fi"], REG_MULTI_SZ), ["Ethernet", "Wi-Fi"]),
        (("ice_interfaces", "Ethernet; Wi-Fi;", REG_SZ), ["Ethernet", "Wi-Fi"]),
        (("idle_lock_minutes", 15, REG_DWORD), 15),
        (("idle_lock_minutes", "15", REG_SZ), 15),
        (("idle_lock_minutes", "soon", REG_SZ), "soon"),
    ],
)
def test_registry_values_convert_to_setting_types(
    triple: tuple[str, object, int], expected: object
) -> None:
    assert from_registry_values([triple]) == {triple[0]: expected}


def test_registry_policy_is_checked_like_the_others() -> None:
    raw = from_registry_values([
        ("server_url", "https://desk.example.org", REG_SZ),
        ("allow_test_pattern", 2, REG_DWORD),
    ])
    assert checked_policy(raw, "HKLM") == {"server_url": "https://desk.example.org"}


def test_windows_reads_nothing_off_windows() -> None:
    # On this (non-Windows) machine the registry reader must not fail or invent a policy.
    policy = load_machine_policy("win32", {})
    assert policy.values == {}
    assert policy.location == r"HKLM\SOFTWARE\Policies\ClinicDesk"
