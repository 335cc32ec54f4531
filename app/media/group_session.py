"""One participant in a group call on Janus: camera to VideoRoom, microphone to AudioBridge,
the mixed audio back, and one subscription per video tile shown.

Each part has its own aiortc peer connection: the publisher (video, send only), the AudioBridge
(microphone out, everyone else's mix in: one Opus decode however many talk) and a subscriber
per shown feed, so showing another page of tiles touches only the tiles that change. Janus's
events become the listener's participant list and "talking" flags.
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass, replace
from typing import Any

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription

from app.media.ice_config import (
    IcePolicy,
    IceServer,
    confined_to,
    host_addresses,
    rtc_configuration,
)
from app.media.janus_connection import JanusConnection
from app.media.relay_probe import RelayRoute, relayed_policy
from shared.group_call_protocol import GroupJoin

log = logging.getLogger("clinicdesk.media.group")

VIDEOROOM = "janus.plugin.videoroom"
AUDIOBRIDGE = "janus.plugin.audiobridge"


@dataclass(frozen=True, slots=True)
class GroupParticipant:
    """Someone in the room as the window lists them (this desktop included, `me`)."""

    id: str
    display: str
    muted: bool = False
    talking: bool = False
    #: Publishes video in the VideoRoom (a tile can show them).
    video: bool = False
    me: bool = False


class GroupListener:
    """What a group session reports; called on the asyncio loop. All no-ops here."""

    def participants_changed(self, participants: list[GroupParticipant]) -> None:
        """The whole list, again after every change (joins, leaves, mute, talking)."""

    def video_track(self, feed: str, track: MediaStreamTrack) -> None:
        """The video of `feed` (a participant's id) for its tile."""

    def mix_track(self, track: MediaStreamTrack) -> None:
        """The AudioBridge's mix of everyone else."""

    def ended(self, message: str) -> None:
        """The room closed or the connection to Janus went away (`message` says which)."""


def _pc(policy: IcePolicy) -> RTCPeerConnection:
    return RTCPeerConnection(rtc_configuration(policy))


def _jsep(description: RTCSessionDescription) -> dict[str, Any]:
    return {"type": description.type, "sdp": description.sdp}


class GroupSession:
    """Join, publish, show tiles, mute, leave; report through a GroupListener."""

    def __init__(
        self,
        join: GroupJoin,
        listener: GroupListener | None = None,
        *,
        audio: MediaStreamTrack | None = None,
        video: MediaStreamTrack | None = None,
        ice: IcePolicy | None = None,
    ) -> None:
        self.join = join
        self.listener = listener or GroupListener()
        self.audio = audio
        self.video = video
        # The legs to Janus use the servers the join gave (TURN credentials minted for this
        # participant) before this machine's own, as a 1:1 call does.
        self.ice = (ice or IcePolicy()).with_servers(
            [IceServer(tuple(s.urls), s.username or None, s.credential or None)
             for s in join.ice_servers],
            relay_only=join.ice_transport_policy == "relay",
        )
        #: The TURN route every leg goes through (None: no relay).
        self.relay: RelayRoute | None = None
        self._addresses = host_addresses(self.ice)
        self.janus = JanusConnection(join.janus_url, join.janus_token)
        self.participants: dict[str, GroupParticipant] = {
            join.id: GroupParticipant(join.id, join.display, video=video is not None, me=True)
        }
        self._video_handle = 0
        self._audio_handle = 0
        self._publisher: RTCPeerConnection | None = None
        self._mixer: RTCPeerConnection | None = None
        #: feed id -> (handle, peer connection) of each shown tile.
        self._shown: dict[str, tuple[int, RTCPeerConnection]] = {}
        self.ended = False

    # -- joining -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Joins both rooms and publishes; raises JanusGone / JanusRefused when it cannot, and
        NoRelayPath (before joining) when the legs must be relayed and no TURN path works."""
        # One probe for every leg: aiortc takes a single TURN URL per connection.
        self.ice, self.relay = await relayed_policy(self.ice)
        await self.janus.open()
        self._audio_handle = await self.janus.attach(AUDIOBRIDGE, self._on_audio_event)
        joined = await self.janus.message(self._audio_handle, self._join_body(muted=False))
        self._audio_roster(joined.get("plugindata", {}).get("data", {}).get("participants", []))
        self._video_handle = await self.janus.attach(VIDEOROOM, self._on_video_event)
        joined = await self.janus.message(
            self._video_handle, self._join_body() | {"ptype": "publisher"}
        )
        self._publishers(joined.get("plugindata", {}).get("data", {}).get("publishers", []))
        await self._publish_audio()
        if self.video is not None:
            await self._publish_video()
        self._report()

    def _join_body(self, **extra: Any) -> dict[str, Any]:
        return {
            "request": "join",
            "room": self.join.room,
            "id": self.join.id,
            "display": self.join.display,
            "token": self.join.join_token,
        } | extra

    async def _negotiate(self, pc: RTCPeerConnection, handle: int, body: dict[str, Any]) -> None:
        with confined_to(self._addresses):
            await pc.setLocalDescription(await pc.createOffer())
        answer = await self.janus.message(handle, body, _jsep(pc.localDescription))
        jsep = answer.get("jsep")
        if jsep is None:
            raise RuntimeError("Janus accepted the offer without an answer")
        await pc.setRemoteDescription(RTCSessionDescription(jsep["sdp"], jsep["type"]))

    async def _publish_audio(self) -> None:
        pc = self._mixer = _pc(self.ice)

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "audio":
                self.listener.mix_track(track)

        if self.audio is not None:
            pc.addTrack(self.audio)
        else:
            pc.addTransceiver("audio", direction="recvonly")
        await self._negotiate(pc, self._audio_handle, {"request": "configure", "muted": False})

    async def _publish_video(self) -> None:
        assert self.video is not None
        pc = self._publisher = _pc(self.ice)
        pc.addTransceiver(self.video, direction="sendonly")
        await self._negotiate(pc, self._video_handle, {"request": "publish", "audio": False})

    def connections(self) -> list[RTCPeerConnection]:
        """Every leg's peer connection now: the publisher, the mix, each shown tile."""
        legs = [pc for pc in (self._publisher, self._mixer) if pc is not None]
        return legs + [pc for _handle, pc in self._shown.values()]

    # -- tiles -------------------------------------------------------------------------------

    async def show(self, feeds: list[str]) -> None:
        """Subscribes to exactly `feeds` (the tiles on screen); drops the others."""
        for feed in [feed for feed in self._shown if feed not in feeds]:
            handle, pc = self._shown.pop(feed)
            await self.janus.detach(handle)
            await pc.close()
        for feed in feeds:
            if feed not in self._shown and feed != self.join.id:
                await self._subscribe(feed)

    async def _subscribe(self, feed: str) -> None:
        handle = await self.janus.attach(VIDEOROOM, lambda _event: None)
        body = {
            "request": "join",
            "ptype": "subscriber",
            "room": self.join.room,
            "streams": [{"feed": feed}],
            "token": self.join.join_token,
        }
        attached = await self.janus.message(handle, body)
        offer = attached.get("jsep")
        if offer is None:
            await self.janus.detach(handle)
            return
        pc = _pc(self.ice)
        self._shown[feed] = (handle, pc)

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video" and self._shown.get(feed, (0, None))[1] is pc:
                self.listener.video_track(feed, track)

        await pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], offer["type"]))
        with confined_to(self._addresses):
            await pc.setLocalDescription(await pc.createAnswer())
        await self.janus.message(handle, {"request": "start"}, _jsep(pc.localDescription))

    # -- controls ----------------------------------------------------------------------------

    async def set_muted(self, muted: bool) -> None:
        """Mutes this desktop's microphone in the mix (everyone's list shows it)."""
        await self.janus.message(self._audio_handle, {"request": "configure", "muted": muted})
        if muted:
            self._update(self.join.id, muted=True, talking=False)
        else:
            self._update(self.join.id, muted=False)

    async def leave(self) -> None:
        self.ended = True
        connections = [pc for _handle, pc in self._shown.values()]
        connections += [pc for pc in (self._publisher, self._mixer) if pc is not None]
        self._shown.clear()
        for pc in connections:
            await pc.close()
        await self.janus.close()

    # -- Janus's events ----------------------------------------------------------------------

    def _update(self, participant_id: str, **changes: Any) -> None:
        current = self.participants.get(participant_id)
        if current is None:
            return
        self.participants[participant_id] = replace(current, **changes)
        self._report()

    def _report(self) -> None:
        self.listener.participants_changed(list(self.participants.values()))

    def _audio_roster(self, entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            key = str(entry["id"])
            current = self.participants.get(key) or GroupParticipant(
                key, str(entry.get("display", ""))
            )
            muted = bool(entry.get("muted", False))
            self.participants[key] = replace(
                current,
                display=str(entry.get("display", current.display)),
                muted=muted,
                # A muted microphone sends no "stopped-talking": it is silent by definition.
                talking=not muted and bool(entry.get("talking", current.talking)),
            )

    def _publishers(self, entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            key = str(entry["id"])
            current = self.participants.get(key) or GroupParticipant(
                key, str(entry.get("display", ""))
            )
            self.participants[key] = replace(current, video=True)

    def _on_audio_event(self, message: dict[str, Any]) -> None:
        data = message.get("plugindata", {}).get("data", {})
        kind = data.get("audiobridge")
        if kind in ("talking", "stopped-talking"):
            self._update(str(data.get("id")), talking=kind == "talking")
        elif kind in ("joined", "event") and "participants" in data:
            self._audio_roster(data["participants"])
            self._report()
        elif kind == "event" and "leaving" in data:
            self.participants.pop(str(data["leaving"]), None)
            self._report()
        elif kind == "destroyed" or message.get("janus") == "detached":
            self._room_closed("The group call has ended.")

    def _on_video_event(self, message: dict[str, Any]) -> None:
        data = message.get("plugindata", {}).get("data", {})
        if data.get("videoroom") == "destroyed":
            self._room_closed("The group call has ended.")
            return
        if "publishers" in data:
            self._publishers(data["publishers"])
            self._report()
        for key in ("unpublished", "leaving"):
            if key in data and str(data[key]) in self.participants:
                self._update(str(data[key]), video=False)
                self._drop_tile(str(data[key]))

    def _drop_tile(self, feed: str) -> None:
        shown = self._shown.pop(feed, None)
        if shown is not None:
            handle, pc = shown
            task = asyncio.ensure_future(self._close_tile(handle, pc))
            task.add_done_callback(lambda _task: None)

    async def _close_tile(self, handle: int, pc: RTCPeerConnection) -> None:
        with contextlib.suppress(Exception):
            await self.janus.detach(handle)
        await pc.close()

    def _room_closed(self, message: str) -> None:
        if not self.ended:
            self.ended = True
            self.listener.ended(message)
