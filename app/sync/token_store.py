"""Where the refresh token lives: the OS keychain through `keyring`, never a file or QSettings.

On a machine without a usable keychain (headless Linux without Secret Service) the token is
kept in memory only: the user signs in again at the next start, and nothing is written to disk.
"""

import logging

log = logging.getLogger("clinicdesk.sync")

SERVICE = "Clinic Desk"
#: The keychain entry that unlocks the idle lock offline: an argon2 hash, never the password.
UNLOCK_SERVICE = "Clinic Desk unlock"


def _account(server_url: str, username: str) -> str:
    return f"{username.lower()}@{server_url.rstrip('/')}"


class TokenStore:
    """Secrets of an account in the keychain: the refresh token (`SERVICE`) and the unlock
    verifier (`UNLOCK_SERVICE`)."""

    def __init__(self) -> None:
        self._memory: dict[tuple[str, str], str] = {}
        #: True once a secret could not go to the keychain and lives in memory only: the user
        #: must be told that they will sign in again at the next start.
        self.memory_only = False

    def load(self, server_url: str, username: str, service: str = SERVICE) -> str | None:
        key = (service, _account(server_url, username))
        if key in self._memory:
            return self._memory[key]
        # keyring loads here, not at start: it scans every installed package for backends,
        # and the demo (MemoryTokenStore) never needs it.
        import keyring
        from keyring.errors import KeyringError

        try:
            return keyring.get_password(*key)
        except (KeyringError, RuntimeError) as error:
            log.warning("the keychain cannot be read (%s): sign-in is needed", type(error).__name__)
            return None

    def save(self, server_url: str, username: str, secret: str, service: str = SERVICE) -> None:
        key = (service, _account(server_url, username))
        import keyring
        from keyring.errors import KeyringError

        try:
            keyring.set_password(*key, secret)
            self._memory.pop(key, None)
        except (KeyringError, RuntimeError) as error:
            log.warning("no usable keychain (%s): the session is kept in memory only",
                        type(error).__name__)
            self._memory[key] = secret
            self.memory_only = True

    def clear(self, server_url: str, username: str, service: str = SERVICE) -> None:
        key = (service, _account(server_url, username))
        self._memory.pop(key, None)
        import keyring
        from keyring.errors import KeyringError

        try:
            keyring.delete_password(*key)
        except (KeyringError, RuntimeError):
            pass  # nothing stored, or no keychain: nothing to clear


class MemoryTokenStore(TokenStore):
    """Secrets in this process's memory only: the demo signs in without touching the keychain
    (its password is new at every start, so nothing would be worth keeping)."""

    def load(self, server_url: str, username: str, service: str = SERVICE) -> str | None:
        return self._memory.get((service, _account(server_url, username)))

    def save(self, server_url: str, username: str, secret: str, service: str = SERVICE) -> None:
        self._memory[(service, _account(server_url, username))] = secret

    def clear(self, server_url: str, username: str, service: str = SERVICE) -> None:
        self._memory.pop((service, _account(server_url, username)), None)
