"""A small client of Janus's HTTP API for the server: a session, plugin handles, plugin requests.

Only the server uses it, with the API secret; it never carries a participant's token.
Every request is synchronous (the routes run in worker threads) and short: the session is
destroyed when the `with` block ends.
"""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx


class JanusError(Exception):
    """Janus answered with an error, or a plugin refused the request."""

    def __init__(self, code: int, reason: str):
        super().__init__(f"Janus error {code}: {reason}")
        self.code = code
        self.reason = reason


class JanusUnreachable(Exception):
    """Janus did not answer (not running, wrong URL, timed out)."""


def _transaction() -> str:
    return secrets.token_hex(8)


class JanusSession:
    """One Janus session of the server; `attach` gives plugin handles."""

    def __init__(self, http: httpx.Client, url: str, api_secret: str, session_id: int):
        self._http = http
        self._url = url
        self._secret = api_secret
        self.session_id = session_id

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return _post(self._http, f"{self._url}{path}", body | {"apisecret": self._secret})

    def events(self, wait_seconds: float = 35.0) -> list[dict[str, Any]]:
        """The session's next events (Janus's long poll: it answers within 30 s, a keepalive
        when nothing happened); also what keeps the session alive."""
        params = {"maxev": "10", "apisecret": self._secret, "rid": secrets.token_hex(4)}
        try:
            response = self._http.get(
                f"{self._url}/{self.session_id}", params=params, timeout=wait_seconds
            )
        except httpx.HTTPError as error:
            raise JanusUnreachable(str(error) or type(error).__name__) from error
        if response.status_code != 200:
            raise JanusUnreachable(f"HTTP {response.status_code} from Janus")
        answer = response.json()
        batch = answer if isinstance(answer, list) else [answer]
        for event in batch:
            if event.get("janus") == "error":
                refusal = event.get("error", {})
                raise JanusError(int(refusal.get("code", 0)), str(refusal.get("reason", "")))
        return [event for event in batch if event.get("janus") != "keepalive"]

    def attach(self, plugin: str) -> int:
        answer = self.post(f"/{self.session_id}", {"janus": "attach", "plugin": plugin})
        handle: int = answer["data"]["id"]
        return handle

    def request(self, handle: int, body: dict[str, Any]) -> dict[str, Any]:
        """A synchronous plugin request (create, destroy, exists, allowed, kick...); its data."""
        answer = self.post(f"/{self.session_id}/{handle}", {"janus": "message", "body": body})
        data: dict[str, Any] = answer.get("plugindata", {}).get("data", {})
        code = data.get("error_code")
        if code is not None:
            raise JanusError(int(code), str(data.get("error", "refused")))
        return data


def _post(http: httpx.Client, url: str, body: dict[str, Any]) -> dict[str, Any]:
    try:
        response = http.post(url, json=body | {"transaction": _transaction()})
    except httpx.HTTPError as error:
        raise JanusUnreachable(str(error) or type(error).__name__) from error
    if response.status_code != 200:
        raise JanusUnreachable(f"HTTP {response.status_code} from Janus")
    try:
        answer: dict[str, Any] = response.json()
    except ValueError as error:
        raise JanusUnreachable("Janus answered with something that is not JSON") from error
    if answer.get("janus") == "error":
        refusal = answer.get("error", {})
        raise JanusError(int(refusal.get("code", 0)), str(refusal.get("reason", "refused")))
    return answer


class JanusClient:
    """Janus's HTTP API at `url` (e.g. http://127.0.0.1:8088/janus) with the API secret."""

    def __init__(self, url: str, api_secret: str, timeout: float = 5.0):
        self.url = url.rstrip("/")
        self._secret = api_secret
        self._timeout = timeout

    @contextmanager
    def session(self) -> Iterator[JanusSession]:
        with httpx.Client(timeout=self._timeout, trust_env=False) as http:
            answer = _post(http, self.url, {"janus": "create", "apisecret": self._secret})
            session = JanusSession(http, self.url, self._secret, int(answer["data"]["id"]))
            try:
                yield session
            finally:
                try:
                    session.post(f"/{session.session_id}", {"janus": "destroy"})
                except (JanusError, JanusUnreachable):
                    pass  # Janus times the session out by itself.

    def info(self) -> dict[str, Any]:
        """Janus's `info` answer (version, plugins): a cheap "is it there?"."""
        with httpx.Client(timeout=self._timeout, trust_env=False) as http:
            try:
                response = http.get(f"{self.url}/info")
            except httpx.HTTPError as error:
                raise JanusUnreachable(str(error) or type(error).__name__) from error
            answer: dict[str, Any] = response.json()
            return answer
