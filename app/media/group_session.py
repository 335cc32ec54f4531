"""One participant in a group call on Janus: camera to VideoRoom, microphone to AudioBridge,
the mixed audio back, and one subscription per video tile shown.

Each part has its own aiortc peer connection: the publisher (video, send only), the AudioBridge
(microphone out, everyone else's mix in: one Opus decode however many talk) and a subscriber
per shown feed, so showing another page of tiles touches only the tiles that change. Janus's
events become the listener's participant list and "talking" flags. A screen share is a second
VideoRoom publisher of the same participant (`<id>:screen`), listed apart from the people.

When the connection to Janus goes (Janus restarted), a session given `renew` says
"reconnecting", asks the server for a fresh credential (which recreates the rooms) and joins
again by itself, with the same tiles, microphone, camera and screen share.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
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
from app.media.janus_connection import JanusConnection, JanusGone, JanusRefused
from app.media.relay_probe import RelayRoute, relayed_policy
from app.media.tracks import LentTrack
from shared.group_call_protocol import GroupJoin

log = logging.getLogger("clinicdesk.media.group")

VIDEOROOM = "janus.plugin.videoroom"
AUDIOBRIDGE = "janus.plugin.audiobridge"
#: A screen share's feed id is its sharer's id with this ending.
SCREEN_SUFFIX = ":screen"
#: A screen share's own cap (Janus's REMB to the sharer): text must stay readable.
SCREEN_BITRATE = 1_000_000
#: How long a session keeps trying to get back in after losing Janus, and its pauses.
RECONNECT_SECONDS = 120.0
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 3.0)
#: Simulcast layers a subscriber can ask Janus for (publishers that send one layer ignore it).
FULL_LAYER, HALF_LAYER, QUARTER_LAYER = 2, 1, 0


def layer_for_width(width: int) -> int:
    """The simulcast layer a tile this many pixels wide needs."""
    return FULL_LAYER if width > 400 else HALF_LAYER if width > 180 else QUARTER_LAYER


#: VideoRoom's "no such feed": someone not publishing (yet, or any more).
NO_SUCH_FEED = 428
RECONNECTING = "The connection to the group call was lost: reconnecting…"
GAVE_UP = "The group call service did not come back. Leave and join again in a few minutes."
LOST = "The connection to the group call was lost."


class RejoinRefused(Exception):
    """The server will not let this participant back in (removed, the call ended…)."""


#: Asks the server for a fresh credential (the rooms are recreated); raises RejoinRefused
#: when the answer is final, anything else to be tried again.
Renew = Callable[[], Awaitable[GroupJoin]]


def screen_feed(participant_id: str) -> str:
    return participant_id + SCREEN_SUFFIX


def is_screen(feed: str) -> bool:
    return feed.endswith(SCREEN_SUFFIX)


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

    def screens_changed(self, screens: dict[str, str]) -> None:
        """The screen shares in the room now: feed id -> the sharer's name."""

    def reconnecting(self, message: str) -> None:
        """The connection to Janus went; the session is getting back in by itself."""

    def reconnected(self) -> None:
        """Back in the rooms after `reconnecting`."""

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
        renew: Renew | None = None,
    ) -> None:
        self.join = join
        self.renew = renew
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
        #: The feeds asked for by the last show(): shown again after a reconnection.
        self._wanted: list[str] = []
        #: This participant's screen share: the track, its handle and peer connection.
        self._screen_track: MediaStreamTrack | None = None
        self._screen_leg: tuple[int, RTCPeerConnection] | None = None
        #: Screen shares in the room: feed id -> the sharer's name.
        self.screens: dict[str, str] = {}
        self._watch: asyncio.Task[None] | None = None
        self._late: set[asyncio.Future[None]] = set()
        self._subscribing: set[str] = set()
        #: The simulcast layer asked for the tiles, and each shown tile's video mid.
        self.layer = HALF_LAYER
        self._mids: dict[str, str] = {}
        self.reconnecting = False
        self.muted = False
        self.ended = False

    # -- joining -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Joins both rooms and publishes; raises JanusGone / JanusRefused when it cannot, and
        NoRelayPath (before joining) when the legs must be relayed and no TURN path works."""
        # One probe for every leg: aiortc takes a single TURN URL per connection.
        self.ice, self.relay = await relayed_policy(self.ice)
        await self._connect()
        self._watch = asyncio.ensure_future(self._watch_connection())

    async def _connect(self) -> None:
        await self.janus.open()
        self._audio_handle = await self.janus.attach(AUDIOBRIDGE, self._on_audio_event)
        joined = await self.janus.message(self._audio_handle, self._join_body(muted=self.muted))
        self._audio_roster(joined.get("plugindata", {}).get("data", {}).get("participants", []))
        self._video_handle = await self.janus.attach(VIDEOROOM, self._on_video_event)
        joined = await self.janus.message(
            self._video_handle, self._join_body() | {"ptype": "publisher"}
        )
        self._publishers(joined.get("plugindata", {}).get("data", {}).get("publishers", []))
        await self._publish_audio()
        if self.video is not None:
            await self._publish_video()
        if self._screen_track is not None:
            await self._publish_screen(self._screen_track)
        self._report()

    # -- losing Janus and getting back in ----------------------------------------------------

    async def _watch_connection(self) -> None:
        while not self.ended:
            await self.janus.closed.wait()
            if self.ended:
                return
            if self.renew is None:
                self._room_closed(LOST)
                return
            self.reconnecting = True
            log.warning("lost the connection to Janus: reconnecting")
            # Out of the rooms: nobody else is listed until Janus tells again.
            self.participants = {self.join.id: self.participants[self.join.id]}
            self.screens = {}
            self._report()
            self.listener.screens_changed({})
            self.listener.reconnecting(RECONNECTING)
            back = await self._reconnect(self.renew)
            self.reconnecting = False
            if not back:
                return
            log.info("back in the group call after Janus came back")
            self.listener.reconnected()

    async def _reconnect(self, renew: Renew) -> bool:
        """Joins again with a fresh credential until it works, is refused or time runs out."""
        await self._drop_legs()
        deadline = asyncio.get_running_loop().time() + RECONNECT_SECONDS
        attempt = 0
        while not self.ended:
            await asyncio.sleep(RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)])
            attempt += 1
            if self.ended:
                return False
            try:
                self.join = await renew()
                self.janus = JanusConnection(self.join.janus_url, self.join.janus_token)
                await self._connect()
            except RejoinRefused as refused:
                await self._drop_legs()
                self._room_closed(str(refused))
                return False
            except Exception as error:  # noqa: BLE001 - anything else: Janus not back yet
                log.info("rejoining the group call failed (%s): trying again", error)
                await self._drop_legs()
                if asyncio.get_running_loop().time() > deadline:
                    self._room_closed(GAVE_UP)
                    return False
                continue
            self.reconnecting = False
            # Janus going again meanwhile is the watch's next round, not a failure here.
            with contextlib.suppress(JanusGone, JanusRefused):
                await self.show(self._wanted)
            return True
        return False

    async def _drop_legs(self) -> None:
        """Closes every peer connection and the Janus session (gone already, or half made)."""
        legs = self.connections()
        if self._screen_leg is not None:
            legs.append(self._screen_leg[1])
        self._shown.clear()
        self._publisher = self._mixer = None
        self._screen_leg = None
        for pc in legs:
            with contextlib.suppress(Exception):
                await pc.close()
        with contextlib.suppress(JanusGone, JanusRefused, OSError):
            await self.janus.close()

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
            pc.addTrack(LentTrack(self.audio))
        else:
            pc.addTransceiver("audio", direction="recvonly")
        await self._negotiate(
            pc, self._audio_handle, {"request": "configure", "muted": self.muted}
        )

    async def _publish_video(self) -> None:
        assert self.video is not None
        pc = self._publisher = _pc(self.ice)
        pc.addTransceiver(LentTrack(self.video), direction="sendonly")
        await self._negotiate(pc, self._video_handle, {"request": "publish", "audio": False})

    def connections(self) -> list[RTCPeerConnection]:
        """Every leg's peer connection now: the publisher, the mix, each shown tile."""
        legs = [pc for pc in (self._publisher, self._mixer) if pc is not None]
        return legs + [pc for _handle, pc in self._shown.values()]

    # -- tiles -------------------------------------------------------------------------------

    async def show(self, feeds: list[str]) -> None:
        """Subscribes to exactly `feeds` (the tiles on screen); drops the others."""
        self._wanted = list(feeds)
        if self.reconnecting:
            return  # shown once back in the rooms
        for feed in [feed for feed in self._shown if feed not in feeds]:
            handle, pc = self._shown.pop(feed)
            await self.janus.detach(handle)
            await pc.close()
        for feed in feeds:
            if feed not in self._shown and feed not in (self.join.id, screen_feed(self.join.id)):
                await self._subscribe(feed)

    async def _subscribe(self, feed: str) -> None:
        if feed in self._subscribing:
            return
        self._subscribing.add(feed)
        try:
            await self._subscribe_once(feed)
        finally:
            self._subscribing.discard(feed)

    async def _subscribe_once(self, feed: str) -> None:
        handle = await self.janus.attach(VIDEOROOM, lambda _event: None)
        body = {
            "request": "join",
            "ptype": "subscriber",
            "room": self.join.room,
            "streams": [{"feed": feed, "substream": self._layer(feed)}],
            "token": self.join.join_token,
        }
        try:
            attached = await self.janus.message(handle, body)
        except JanusRefused as refused:
            await self.janus.detach(handle)
            if refused.code != NO_SUCH_FEED:
                raise
            log.info("feed %s is not published (yet): shown when it is", feed)
            return  # not publishing (yet): subscribed when Janus announces them
        streams = attached.get("plugindata", {}).get("data", {}).get("streams", [])
        self._mids[feed] = next(
            (str(s["mid"]) for s in streams if s.get("type") == "video" and "mid" in s), "")
        offer = attached.get("jsep")
        if offer is None:
            log.warning("Janus offered nothing for feed %s: %s", feed, attached)
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

    def _layer(self, feed: str) -> int:
        return FULL_LAYER if is_screen(feed) else self.layer

    async def set_layer(self, layer: int) -> None:
        """Asks Janus for simulcast layer `layer` of every tile shown (a screen stays whole)."""
        if layer == self.layer:
            return
        self.layer = layer
        for feed, (handle, _pc) in list(self._shown.items()):
            mid = self._mids.get(feed)
            if mid and not is_screen(feed):
                body = {"request": "configure", "streams": [{"mid": mid, "substream": layer}]}
                with contextlib.suppress(JanusRefused):
                    await self.janus.message(handle, body)

    # -- screen share ------------------------------------------------------------------------

    @property
    def sharing_screen(self) -> bool:
        return self._screen_track is not None

    async def share_screen(self, track: MediaStreamTrack) -> None:
        """Publishes `track` as this participant's second feed (`<id>:screen`), a large tile
        for everyone; raises JanusGone / JanusRefused when Janus will not take it."""
        if self._screen_track is not None:
            await self.stop_screen_share()
        self._screen_track = track
        if self.reconnecting:
            return  # published once back in the rooms
        try:
            await self._publish_screen(track)
        except Exception:
            self._screen_track = None
            raise

    async def _publish_screen(self, track: MediaStreamTrack) -> None:
        handle = await self.janus.attach(VIDEOROOM, lambda _event: None)
        pc = _pc(self.ice)
        self._screen_leg = (handle, pc)
        feed = screen_feed(self.join.id)
        body = self._join_body(ptype="publisher") | {
            "id": feed, "display": f"{self.join.display} (screen)",
        }
        await self.janus.message(handle, body)
        # aiortc stops a sender's track with its connection: each leg is lent the camera,
        # microphone or screen, so a rejoin can send them again.
        pc.addTransceiver(LentTrack(track), direction="sendonly")
        await self._negotiate(
            pc, handle, {"request": "publish", "audio": False, "bitrate": SCREEN_BITRATE}
        )

    async def stop_screen_share(self) -> None:
        """Takes the screen share out of the room (everyone's large tile goes)."""
        self._screen_track = None
        leg, self._screen_leg = self._screen_leg, None
        if leg is not None:
            await self._close_tile(*leg)

    # -- controls ----------------------------------------------------------------------------

    async def set_muted(self, muted: bool) -> None:
        """Mutes this desktop's microphone in the mix (everyone's list shows it)."""
        self.muted = muted
        await self.janus.message(self._audio_handle, {"request": "configure", "muted": muted})
        if muted:
            self._update(self.join.id, muted=True, talking=False)
        else:
            self._update(self.join.id, muted=False)

    async def leave(self) -> None:
        self.ended = True
        self._screen_track = None
        await self._drop_legs()
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch

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
            if key == self.join.id:
                # Muted by the clinician too: a rejoin after Janus restarts keeps it.
                self.muted = muted
            self.participants[key] = replace(
                current,
                display=str(entry.get("display", current.display)),
                muted=muted,
                # A muted microphone sends no "stopped-talking": it is silent by definition.
                talking=not muted and bool(entry.get("talking", current.talking)),
            )

    def _publishers(self, entries: list[dict[str, Any]]) -> None:
        screens = dict(self.screens)
        for entry in entries:
            key = str(entry["id"])
            if is_screen(key):
                screens[key] = str(entry.get("display", ""))
                continue
            current = self.participants.get(key) or GroupParticipant(
                key, str(entry.get("display", ""))
            )
            self.participants[key] = replace(current, video=True)
        self._screens(screens)
        # A wanted tile whose publisher was not there yet (back after Janus restarted).
        for entry in entries:
            key = str(entry["id"])
            if key in self._wanted and key not in self._shown:
                task = asyncio.ensure_future(self._subscribe_late(key))
                self._late.add(task)
                task.add_done_callback(self._late.discard)

    async def _subscribe_late(self, feed: str) -> None:
        log.info("feed %s published again: showing it", feed)
        try:
            # Also while rejoining: the announcement may come between the join and show().
            if feed in self._wanted and feed not in self._shown and not self.janus.closed.is_set():
                await self._subscribe(feed)
        except (JanusGone, JanusRefused) as error:
            log.warning("could not show feed %s: %s", feed, error)

    def _screens(self, screens: dict[str, str]) -> None:
        if screens != self.screens:
            self.screens = screens
            self.listener.screens_changed(dict(screens))

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
        elif kind == "destroyed" or (message.get("janus") == "detached" and self.renew is None):
            # Janus detaching the handle on its way down is not the end when the session
            # can get back in: the closed connection starts that.
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
            feed = str(data.get(key, ""))
            if feed in self.screens:
                self._screens({k: v for k, v in self.screens.items() if k != feed})
                self._drop_tile(feed)
            elif feed in self.participants:
                self._update(feed, video=False)
                self._drop_tile(feed)

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
