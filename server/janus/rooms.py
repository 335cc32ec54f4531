"""An appointment's rooms on Janus: VideoRoom (video tiles), AudioBridge (one mixed audio), TextRoom
(chat); created on first use, each participant's join token added to their `allowed` lists.

The rooms are not permanent: after a Janus restart the next credential asked for creates them
again with the same names, secrets and tokens (server/janus/credentials.py).
"""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from server.janus.client import JanusClient, JanusError, JanusSession
from server.janus.credentials import room_name, room_secret
from shared.records import MAX_GROUP_PARTICIPANTS

#: Staff of the appointment (the clinician, a second clinician, a clerk) on top of its guests,
#: and one screen share each at most.
MAX_PUBLISHERS = 2 * (MAX_GROUP_PARTICIPANTS + 4)
#: Each video publisher's cap: small tiles, so a 50-person room fits a clinic's uplink.
VIDEO_BITRATE = 256_000
#: AudioBridge talking events: talking after 0.5 s above level 55 (0 loudest, 127 silence).
AUDIO_ACTIVE_PACKETS = 25
AUDIO_LEVEL_AVERAGE = 55


@dataclass(frozen=True, slots=True)
class _Plugin:
    name: str
    #: Janus's error codes for "no such room" and "room exists".
    no_such_room: int
    room_exists: int


#: "No such participant" of VideoRoom, AudioBridge and TextRoom.
VIDEO_NO_SUCH_FEED = 428
AUDIO_NO_SUCH_USER = 492
TEXT_NO_SUCH_USER = 423

VIDEO = _Plugin("janus.plugin.videoroom", 426, 427)
AUDIO = _Plugin("janus.plugin.audiobridge", 485, 486)
TEXT = _Plugin("janus.plugin.textroom", 417, 418)
PLUGINS = (VIDEO, AUDIO, TEXT)


def _room_settings(plugin: _Plugin) -> dict[str, Any]:
    if plugin is VIDEO:
        return {
            "publishers": MAX_PUBLISHERS,
            "bitrate": VIDEO_BITRATE,
            "fir_freq": 10,
            "videocodec": "vp8",
            "notify_joining": True,
        }
    if plugin is AUDIO:
        return {
            "sampling_rate": 16000,
            "audiolevel_event": True,
            "audio_active_packets": AUDIO_ACTIVE_PACKETS,
            "audio_level_average": AUDIO_LEVEL_AVERAGE,
        }
    return {}


class GroupRooms:
    """The rooms of group appointments on one Janus, named and locked with the server's secret."""

    def __init__(self, client: JanusClient, room_key: str, secret: str):
        self._client = client
        self._room_key = room_key
        self._secret = secret

    def name(self, appointment_id: UUID) -> str:
        return room_name(self._secret, appointment_id)

    def admit(self, appointment_id: UUID, token: str, description: str) -> str:
        """Lets `token` join the appointment's rooms, creating them if needed; the room name."""
        room = self.name(appointment_id)
        with self._client.session() as session:
            for plugin in PLUGINS:
                handle = session.attach(plugin.name)
                self._allow(session, handle, plugin, appointment_id, token, description)
        return room

    def _allow(
        self,
        session: JanusSession,
        handle: int,
        plugin: _Plugin,
        appointment_id: UUID,
        token: str,
        description: str,
    ) -> None:
        room = self.name(appointment_id)
        secret = room_secret(self._secret, appointment_id)
        allow = {"request": "allowed", "room": room, "secret": secret, "action": "add"}
        try:
            session.request(handle, allow | {"allowed": [token]})
            return
        except JanusError as error:
            if error.code != plugin.no_such_room:
                raise
        create = {
            "request": "create",
            "admin_key": self._room_key,
            "room": room,
            "permanent": False,
            "description": description,
            "secret": secret,
            "is_private": True,
            "allowed": [token],
        } | _room_settings(plugin)
        try:
            session.request(handle, create)
        except JanusError as error:
            if error.code != plugin.room_exists:
                raise
            # Another request created it meanwhile: add the token to its list.
            session.request(handle, allow | {"allowed": [token]})

    def mute(self, appointment_id: UUID, participant: str, muted: bool) -> None:
        """Mutes (or unmutes) `participant` in the appointment's mix; everyone's list shows it."""
        body = self._secured(appointment_id) | {
            "request": "mute" if muted else "unmute",
            "id": participant,
        }
        with self._client.session() as session:
            handle = session.attach(AUDIO.name)
            session.request(handle, body)

    def remove(self, appointment_id: UUID, participant: str, token: str) -> None:
        """Sends `participant` out of the rooms and takes their token off the `allowed` lists,
        so it opens none of them again; rooms that are gone, or where they are not, are fine."""
        secured = self._secured(appointment_id)
        # Gone already (their page left when the first plugin kicked them) is fine.
        kicks = {VIDEO: VIDEO_NO_SUCH_FEED, AUDIO: AUDIO_NO_SUCH_USER, TEXT: TEXT_NO_SUCH_USER}
        # TextRoom names its participants by username (the same id).
        who = {VIDEO: "id", AUDIO: "id", TEXT: "username"}
        with self._client.session() as session:
            for plugin in PLUGINS:
                handle = session.attach(plugin.name)
                allowed = {"request": "allowed", "action": "remove", "allowed": [token]}
                requests = [secured | allowed]
                if plugin in kicks:
                    requests.append(secured | {"request": "kick", who[plugin]: participant})
                for body in requests:
                    try:
                        session.request(handle, body)
                    except JanusError as error:
                        if error.code not in (plugin.no_such_room, kicks.get(plugin)):
                            raise

    def _secured(self, appointment_id: UUID) -> dict[str, Any]:
        return {
            "room": self.name(appointment_id),
            "secret": room_secret(self._secret, appointment_id),
        }

    def destroy(self, appointment_id: UUID) -> None:
        """Closes the appointment's rooms (everyone in them is sent away); missing ones are fine."""
        room = self.name(appointment_id)
        secret = room_secret(self._secret, appointment_id)
        with self._client.session() as session:
            for plugin in PLUGINS:
                handle = session.attach(plugin.name)
                body = {"request": "destroy", "room": room, "secret": secret, "permanent": False}
                try:
                    session.request(handle, body)
                except JanusError as error:
                    if error.code != plugin.no_such_room:
                        raise
