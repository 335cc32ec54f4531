"""The Windows machine policy: values under HKLM\\SOFTWARE\\Policies\\ClinicDesk (Group Policy).

Registry types differ from the settings' types: a flag is a DWORD 0/1, a list a REG_MULTI_SZ
(or one REG_SZ with entries separated by ";"). `from_registry_values` converts; it is pure so it
is tested on every platform. `winreg` is imported only on Windows.
"""

import sys
from collections.abc import Iterable
from typing import Any

from app.policy.errors import UnreadablePolicy
from app.policy.keys import POLICY_KEYS

KEY_PATH = r"SOFTWARE\Policies\ClinicDesk"

# winreg's constants, repeated so the conversion runs (and is tested) off Windows too.
REG_SZ = 1
REG_EXPAND_SZ = 2
REG_DWORD = 4
REG_MULTI_SZ = 7
REG_QWORD = 11


def _convert(name: str, value: object, kind: int) -> object:
    key = POLICY_KEYS.get(name)
    if key is None:
        return value
    if key.kind is bool and kind in (REG_DWORD, REG_QWORD) and value in (0, 1):
        return bool(value)
    if key.kind is list and kind in (REG_SZ, REG_EXPAND_SZ) and isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    if key.kind is int and kind in (REG_SZ, REG_EXPAND_SZ) and isinstance(value, str):
        stripped = value.strip()
        return int(stripped) if stripped.isdigit() else value
    return value


def from_registry_values(values: Iterable[tuple[str, object, int]]) -> dict[str, Any]:
    """Policy entries from (name, data, registry type) triples, as winreg.EnumValue gives them."""
    return {name: _convert(name, data, kind) for name, data, kind in values}


def read_registry_policy() -> dict[str, Any]:  # pragma: no cover - needs Windows
    """The raw policy under HKLM; {} when IT set none."""
    if sys.platform != "win32":
        return {}
    import winreg

    try:
        handle = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, KEY_PATH, 0, winreg.KEY_READ)
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise UnreadablePolicy(f"cannot open HKLM\\{KEY_PATH}: {error}") from error
    triples: list[tuple[str, object, int]] = []
    with handle:
        index = 0
        while True:
            try:
                name, data, kind = winreg.EnumValue(handle, index)
            except OSError:
                break
            triples.append((name, data, kind))
            index += 1
    return from_registry_values(triples)
