"""Where the refresh token lives: the OS keychain through `keyring`, never a file or QSettings.

On a machine without a usable keychain (headless Linux without Secret Service) the token is
kept in memory only: the user signs in again at the next start, and nothing is written to disk.
"""

import logging

import keyring
from keyring.errors import KeyringError

log = logging.getLogger("clinicdesk.sync")

SERVICE = "Clinic Desk"


def _account(server_url: str, username: str) -> str:
    return f"{username.lower()}@{server_url.rstrip('/')}"


class TokenStore:
    def __init__(self) -> None:
        self._memory: dict[str, str] = {}
        self.persistent = True

    def load(self, server_url: str, username: str) -> str | None:
        account = _account(server_url, username)
        if account in self._memory:
            return self._memory[account]
        try:
            return keyring.get_password(SERVICE, account)
        except (KeyringError, RuntimeError) as error:
            log.warning("the keychain cannot be read (%s): sign-in is needed", type(error).__name__)
            return None

    def save(self, server_url: str, username: str, token: str) -> None:
        account = _account(server_url, username)
        try:
            keyring.set_password(SERVICE, account, token)
            self._memory.pop(account, None)
        except (KeyringError, RuntimeError) as error:
            log.warning("no usable keychain (%s): the session is kept in memory only",
                        type(error).__name__)
            self.persistent = False
            self._memory[account] = token

    def clear(self, server_url: str, username: str) -> None:
        account = _account(server_url, username)
        self._memory.pop(account, None)
        try:
            keyring.delete_password(SERVICE, account)
        except (KeyringError, RuntimeError):
            pass  # nothing stored, or no keychain: nothing to clear
