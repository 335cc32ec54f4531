"""A participant speaking Janus's HTTP API (no media): joins rooms with a credential, as a
browser or desktop would, to check what the credential opens."""

import secrets
import time
from typing import Any

import httpx

from shared.group_call_protocol import GroupJoin


class JanusRefused(Exception):
    def __init__(self, code: int, reason: str):
        super().__init__(f"{code}: {reason}")
        self.code = code


class JanusHttpPeer:
    """A Janus session opened with a participant's Janus token."""

    def __init__(self, url: str, token: str, timeout: float = 10.0):
        self.url = url
        self.token = token
        self.timeout = timeout
        self.http = httpx.Client(timeout=timeout, trust_env=False)
        self.session_id = self._plain(self.url, {"janus": "create"})["data"]["id"]

    def close(self) -> None:
        try:
            self._plain(f"{self.url}/{self.session_id}", {"janus": "destroy"})
        except JanusRefused:
            pass
        self.http.close()

    def _plain(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        body = body | {"transaction": secrets.token_hex(6), "token": self.token}
        answer: dict[str, Any] = self.http.post(url, json=body).json()
        if answer["janus"] == "error":
            raise JanusRefused(answer["error"]["code"], answer["error"]["reason"])
        return answer

    def attach(self, plugin: str) -> int:
        answer = self._plain(f"{self.url}/{self.session_id}", {"janus": "attach", "plugin": plugin})
        handle: int = answer["data"]["id"]
        return handle

    def message(self, handle: int, body: dict[str, Any]) -> dict[str, Any]:
        """The plugin's answer to `body` (synchronous or the next event of the handle)."""
        answer = self._plain(
            f"{self.url}/{self.session_id}/{handle}", {"janus": "message", "body": body}
        )
        if answer["janus"] == "success":
            return self._data(answer)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            params = {"maxev": "1", "token": self.token, "rid": str(time.time_ns())}
            event = self.http.get(f"{self.url}/{self.session_id}", params=params).json()
            if event.get("sender") == handle and "plugindata" in event:
                return self._data(event)
        raise AssertionError(f"no answer from Janus to {body}")

    @staticmethod
    def _data(answer: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = answer["plugindata"]["data"]
        if "error_code" in data:
            raise JanusRefused(data["error_code"], data.get("error", ""))
        return data

    def join(self, credential: GroupJoin, room: str | None = None) -> None:
        """Joins the VideoRoom (as publisher) and the AudioBridge of `room` (default: its own)."""
        target = room or credential.room
        video = self.attach("janus.plugin.videoroom")
        joined = self.message(
            video,
            {
                "request": "join",
                "ptype": "publisher",
                "room": target,
                "id": credential.id,
                "display": credential.display,
                "token": credential.join_token,
            },
        )
        assert joined["videoroom"] == "joined", joined
        audio = self.attach("janus.plugin.audiobridge")
        joined = self.message(
            audio,
            {
                "request": "join",
                "room": target,
                "id": credential.id,
                "display": credential.display,
                "token": credential.join_token,
            },
        )
        assert joined["audiobridge"] == "joined", joined
