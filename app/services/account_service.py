"""Who is signed in on this desktop: sign in, remember the account, sign out.

The refresh token lives in the OS keychain (app/sync/token_store.py); QSettings keeps only the
account's public facts (server, username, id, name, role) so that the app can start offline.
"""

import logging
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from PySide6.QtCore import QSettings

from app.sync.api_client import ApiClient, SignedInUser
from app.sync.errors import SignInFailed
from app.sync.token_store import UNLOCK_SERVICE, TokenStore
from shared.enums import Role
from shared.errors import KnownError

log = logging.getLogger("clinicdesk.sync")

GROUP = "account"


@dataclass(frozen=True, slots=True)
class Account:
    server_url: str
    user: SignedInUser

    def store_path(self, data_dir: Path) -> Path:
        """Each account has its own local store: one user's unsent work never mixes with
        another's on a shared workstation."""
        return data_dir / "accounts" / f"{self.user.id}.sqlite3"

    @property
    def label(self) -> str:
        return f"{self.user.full_name} ({self.user.role.value}) on {self.server_url}"


class AccountService:
    def __init__(self, settings: QSettings, tokens: TokenStore | None = None) -> None:
        self._settings = settings
        self.tokens = tokens or TokenStore()

    def remembered(self) -> Account | None:
        """The last account, when its session is still in the keychain (start offline)."""
        values = {key: self._settings.value(f"{GROUP}/{key}") for key in
                  ("server_url", "username", "user_id", "full_name", "role")}
        if not all(isinstance(value, str) and value for value in values.values()):
            return None
        try:
            user = SignedInUser(UUID(str(values["user_id"])), str(values["username"]),
                                str(values["full_name"]), Role(str(values["role"])))
        except ValueError:
            return None
        server_url = str(values["server_url"])
        if self.tokens.load(server_url, user.username) is None:
            return None
        return Account(server_url, user)

    def last_username(self) -> str:
        return str(self._settings.value(f"{GROUP}/username", "") or "")

    def last_server_url(self) -> str:
        """The server of the last sign-in: not a secret, so it is remembered in the settings
        whether or not the keychain could keep the session."""
        return str(self._settings.value(f"{GROUP}/server_url", "") or "")

    @property
    def session_not_kept(self) -> bool:
        """The keychain could not keep the session: the next start asks to sign in again."""
        return self.tokens.memory_only

    def client(self, account: Account) -> ApiClient:
        return ApiClient(account.server_url, account.user.username, self.tokens)

    async def sign_in(self, server_url: str, username: str, password: str) -> tuple[
            Account, ApiClient]:
        """Sign in (raises SignInFailed, Offline, ServerRefused); remember the account."""
        api = ApiClient(server_url, username.strip(), self.tokens)
        try:
            await api.login(password)
            user = await api.me()
        except BaseException:
            await api.close()
            raise
        if user.role is Role.ADMIN:
            await api.logout()
            await api.close()
            raise SignInFailed("Administrator accounts manage the server; sign in to the "
                               "schedule as a clinician or clerk.")
        account = Account(api.server_url, user)
        self.remember_unlock(account, password)
        for key, value in (("server_url", account.server_url), ("username", user.username),
                           ("user_id", str(user.id)), ("full_name", user.full_name),
                           ("role", user.role.value)):
            self._settings.setValue(f"{GROUP}/{key}", value)
        self._settings.sync()
        return account, api

    def remember_unlock(self, account: Account, password: str) -> None:
        """Keep an argon2 hash of the password in the keychain: the idle lock checks it, also
        offline. Never the password itself."""
        from argon2 import PasswordHasher  # at sign-in, not with the first window

        verifier = PasswordHasher().hash(password)
        self.tokens.save(account.server_url, account.user.username, verifier, UNLOCK_SERVICE)

    def check_unlock(self, account: Account, password: str) -> bool:
        verifier = self.tokens.load(account.server_url, account.user.username, UNLOCK_SERVICE)
        if verifier is None:
            log.warning("no unlock verifier in the keychain: the lock opens without a password")
            return True
        from argon2 import PasswordHasher
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            return PasswordHasher().verify(verifier, password)
        except (VerificationError, InvalidHashError):
            return False

    async def sign_out(self, api: ApiClient) -> None:
        """End the session here whatever the server says (it may be gone or refuse a token
        that is already revoked): the keychain and the remembered account are cleared."""
        try:
            await api.logout()
        except KnownError as error:
            log.info("the server did not confirm the sign-out (%s)", type(error).__name__)
        self.tokens.clear(api.server_url, api.username, UNLOCK_SERVICE)
        self._settings.remove(f"{GROUP}/user_id")
        self._settings.sync()
