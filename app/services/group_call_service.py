"""The group call as the UI sees it: a QObject over app.media's GroupSession.

It opens the devices the 1:1 calls remember (through the CallService), turns the session's
events into Qt signals (the participant list, each shown tile's images, the end), plays the
AudioBridge mix, and keeps one frame converter per tile on screen; the chat to everyone
(TextRoom) joins once the call is on. One group call at a time.
Given a way to ask the server again (`renew`), it rides out a Janus restart ("reconnecting",
then back in by itself); it shares the screen as a second feed of the room.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

import shiboken6
from aiortc import MediaStreamTrack
from aiortc.contrib.media import MediaPlayer
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from app.media.audio_output import PcmPump
from app.media.call_session import relay_failure
from app.media.capture import LocalMedia
from app.media.devices import MediaDevice
from app.media.frames import FrameSink, PaintableImage
from app.media.group_chat import ChatMessage, GroupChat
from app.media.group_session import (
    GroupListener,
    GroupParticipant,
    GroupSession,
    RejoinRefused,
    is_screen,
    layer_for_width,
)
from app.media.janus_connection import JanusGone, JanusRefused
from app.media.relay_probe import NoRelayPath
from app.media.screen_share import open_screen, screen_device
from app.services.call_audio_output import AudioOutput
from app.services.call_screen_grab import ScreenGrabber
from app.services.call_service import CallService, qimage
from app.sync.errors import ServerRefused
from shared.errors import KnownError
from shared.group_call_protocol import GroupJoin

log = logging.getLogger("clinicdesk.media.group")

#: Said when Janus refuses the join (e.g. the credential is no longer on the room's list).
REFUSED = "The group call refused to let you in: {reason}"
UNREACHABLE = "The group call service cannot be reached just now. Try again in a minute."
SHARE_REFUSED = "The group call did not take your screen: {reason}"

#: Asks the server for this user's credential again (KnownError when it cannot).
Credential = Callable[[], Awaitable[GroupJoin]]
CHAT_UNAVAILABLE = "The chat is not available just now ({reason}). The call goes on."


class _Forward(GroupListener):
    """The session's listener; silent once the service's C++ object is gone (app shutdown)."""

    def __init__(self, service: "GroupCallService") -> None:
        self._service = service

    def participants_changed(self, participants: list[GroupParticipant]) -> None:
        if shiboken6.isValid(self._service):
            self._service._on_participants(participants)

    def video_track(self, feed: str, track: MediaStreamTrack) -> None:
        if shiboken6.isValid(self._service):
            self._service._on_video(feed, track)

    def mix_track(self, track: MediaStreamTrack) -> None:
        if shiboken6.isValid(self._service):
            self._service._pump.attach(track)

    def screens_changed(self, screens: dict[str, str]) -> None:
        if shiboken6.isValid(self._service):
            self._service.screensChanged.emit(screens)

    def reconnecting(self, message: str) -> None:
        if shiboken6.isValid(self._service):
            self._service.reconnecting.emit(message)

    def reconnected(self) -> None:
        if shiboken6.isValid(self._service):
            self._service.reconnected.emit()

    def ended(self, message: str) -> None:
        if shiboken6.isValid(self._service):
            self._service._on_ended(message)


class GroupCallService(QObject):
    """Join, show tiles, mute, leave the one group call of this desktop."""

    #: list[GroupParticipant], this desktop included.
    participantsChanged = Signal(list)
    #: A shown tile's newest image: (participant id, image).
    tileImage = Signal(str, QImage)
    selfFrame = Signal(QImage)
    mutedChanged = Signal(bool)
    cameraChanged = Signal(bool)
    #: Why the call is over for this desktop (left, the room closed, Janus went away).
    ended = Signal(str)
    #: Janus went away: getting back in by itself (the sentence to show) ...
    reconnecting = Signal(str)
    #: ... and back in.
    reconnected = Signal()
    #: The screen shares in the room: dict feed id -> the sharer's name.
    screensChanged = Signal(dict)
    #: This desktop shares its screen (True) or stopped (False).
    screenShareChanged = Signal(bool)
    #: A ChatMessage to everyone (this desktop's own too, once Janus delivered it).
    chatMessage = Signal(object)
    #: The chat can be used (True, "") or not, and why.
    chatReady = Signal(bool, str)

    def __init__(self, calls: CallService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.calls = calls
        self.session: GroupSession | None = None
        self.chat: GroupChat | None = None
        self.media: LocalMedia | None = None
        self.participants: list[GroupParticipant] = []
        self._tiles: dict[str, FrameSink] = {}
        # Subscribing and leaving one at a time: a tile's subscription still on its way when
        # the call ends would otherwise open a peer connection (and a frame sink) after the
        # leave closed them all, and outlive the call (its sockets, tasks and threads too).
        self._legs = asyncio.Lock()
        self._tile_size = (320, 180)
        self._screen_size = (960, 540)
        self._self_view = FrameSink(self._show_self, "group-self")
        self._pump = PcmPump(self.audio_write)
        self.audio_output = AudioOutput(self)
        self.joined_at: float | None = None
        #: When each tile showed its first image (time.monotonic()).
        self.first_images: dict[str, float] = {}
        self._screen_player: MediaPlayer | None = None
        self._grabber: ScreenGrabber | None = None

    @property
    def in_call(self) -> bool:
        return self.session is not None

    async def join(self, credential: GroupJoin, again: Credential | None = None) -> None:
        """Opens the devices and joins; KnownError with a sentence when it cannot. With `again`
        (the server's credential asked anew) the call rejoins by itself after Janus restarts."""
        if self.in_call or self.calls.in_call:
            raise KnownError("A call is already in progress: hang up before joining another.")
        media = self.media = await self.calls.open_local_media(audio_only=False)
        session = GroupSession(
            credential,
            _Forward(self),
            audio=media.outgoing_audio,
            video=media.outgoing_video,
            ice=self.calls.config.options.ice,
            renew=_renewal(again) if again is not None else None,
        )
        self.session = session
        try:
            await session.start()
        except (JanusGone, JanusRefused, NoRelayPath, OSError) as error:
            log.warning("could not join the group call: %s", error)
            await self._release()
            if isinstance(error, NoRelayPath):
                raise KnownError(relay_failure(error).value) from None
            if isinstance(error, JanusRefused):
                raise KnownError(REFUSED.format(reason=error.reason)) from None
            raise KnownError(UNREACHABLE) from None
        self.joined_at = time.monotonic()
        self._self_view.attach(media.self_view)
        self.audio_output.start(self.calls.remembered("speaker"))
        self.mutedChanged.emit(media.muted)
        self.cameraChanged.emit(media.camera_enabled)
        await self._open_chat(session)

    async def _open_chat(self, session: GroupSession) -> None:
        """The chat joins on the call's Janus session; without it the call goes on."""
        chat = GroupChat(session.janus, session.join, session.ice, self._on_chat)
        try:
            await chat.start()
        except (JanusGone, JanusRefused, OSError) as error:
            log.warning("the group call's chat did not open: %s", error)
            with contextlib.suppress(JanusGone, JanusRefused, OSError):
                await chat.close()
            self.chatReady.emit(False, CHAT_UNAVAILABLE.format(reason=error))
            return
        if self.session is not session:  # left meanwhile
            await chat.close()
            return
        self.chat = chat
        self.chatReady.emit(True, "")

    async def send_chat(self, text: str) -> None:
        """Sends `text` to everyone; KnownError with the reason when it cannot."""
        if self.chat is None:
            raise KnownError("The chat is not connected.")
        try:
            await self.chat.send(text)
        except (JanusGone, JanusRefused) as error:
            raise KnownError(str(error)) from None

    async def show(self, feeds: list[str]) -> None:
        """Subscribes to exactly the tiles on screen (the others' streams stop)."""
        async with self._legs:
            if self.session is None:
                return
            for feed in [feed for feed in self._tiles if feed not in feeds]:
                self._tiles.pop(feed).close()
            with contextlib.suppress(JanusGone, JanusRefused):
                await self.session.show(feeds)

    def set_tile_size(self, width: int, height: int) -> None:
        """The small tiles' size: their frames are converted for it, and a publisher sending
        simulcast layers is asked for the layer that fills it."""
        self._tile_size = (width, height)
        for feed, sink in self._tiles.items():
            if not is_screen(feed):
                sink.set_target_size(width, height)
        session = self.session
        if session is not None and layer_for_width(width) != session.layer:
            task = asyncio.ensure_future(self._set_layer(session, layer_for_width(width)))
            task.add_done_callback(lambda _task: None)

    @staticmethod
    async def _set_layer(session: GroupSession, layer: int) -> None:
        with contextlib.suppress(JanusGone, JanusRefused):
            await session.set_layer(layer)

    def set_screen_size(self, width: int, height: int) -> None:
        """The large tile's size: a shared screen is converted for it, not for a small tile."""
        self._screen_size = (width, height)
        for feed, sink in self._tiles.items():
            if is_screen(feed):
                sink.set_target_size(width, height)

    async def set_muted(self, muted: bool) -> None:
        """Mutes the microphone here and in the room (everyone's list shows it)."""
        if self.media is None or self.session is None:
            return
        self.media.set_muted(muted)
        self.mutedChanged.emit(muted)
        with contextlib.suppress(JanusGone, JanusRefused):
            await self.session.set_muted(muted)

    @property
    def sharing_screen(self) -> bool:
        return self.session is not None and self.session.sharing_screen

    async def set_screen_share(self, on: bool, device: MediaDevice | None = None) -> None:
        """Shares the screen into the room as a large tile for everyone (or stops): the
        platform's grabber (x11grab, gdigrab, avfoundation), Qt's grab where there is none,
        or `device` (a lavfi stand-in in tests). KnownError when it cannot."""
        session = self.session
        if session is None or on == session.sharing_screen:
            return
        if not on:
            await session.stop_screen_share()
            self._stop_screen_source()
            self.screenShareChanged.emit(False)
            return
        source = device or screen_device()
        if source is not None:
            loop = asyncio.get_running_loop()
            player = self._screen_player = await loop.run_in_executor(None, open_screen, source)
            assert player.video is not None
            track = player.video
        else:
            grabber = self._grabber = ScreenGrabber(self)
            grabber.start()
            track = grabber.track
        try:
            await session.share_screen(track)
        except (JanusGone, JanusRefused) as error:
            self._stop_screen_source()
            raise KnownError(SHARE_REFUSED.format(reason=error)) from None
        self.screenShareChanged.emit(True)

    def _stop_screen_source(self) -> None:
        player, self._screen_player = self._screen_player, None
        if player is not None and player.video is not None:
            player.video.stop()
        grabber, self._grabber = self._grabber, None
        if grabber is not None:
            grabber.stop()
            grabber.deleteLater()

    def set_camera_enabled(self, enabled: bool) -> None:
        if self.media is not None and self.media.camera_enabled != enabled:
            self.media.set_camera_enabled(enabled)
            self.cameraChanged.emit(enabled)

    async def leave(self, message: str = "You left the group call.") -> None:
        if self.session is None:
            return
        await self._release()
        self.ended.emit(message)

    def close(self) -> None:
        """The application is quitting: leave without waiting."""
        if self.session is not None:
            with contextlib.suppress(RuntimeError):
                asyncio.ensure_future(self._release())
        self._self_view.close()

    @property
    def tiles_shown(self) -> dict[str, int]:
        """Images shown per tile so far."""
        return {feed: sink.frames_shown for feed, sink in self._tiles.items()}

    # -- from the session ----------------------------------------------------------------------

    def _on_participants(self, participants: list[GroupParticipant]) -> None:
        self.participants = participants
        self.participantsChanged.emit(participants)

    def _on_video(self, feed: str, track: MediaStreamTrack) -> None:
        if self.session is None:
            return  # a track of a call already left
        sink = self._tiles.get(feed)
        if sink is None:
            sink = self._tiles[feed] = FrameSink(lambda image: self._show_tile(feed, image), feed)
            sink.set_target_size(*(self._screen_size if is_screen(feed) else self._tile_size))
        sink.attach(track)

    def _show_tile(self, feed: str, image: PaintableImage) -> None:
        self.first_images.setdefault(feed, time.monotonic())
        self.tileImage.emit(feed, qimage(image))

    def _show_self(self, image: PaintableImage) -> None:
        self.selfFrame.emit(qimage(image))

    def audio_write(self, pcm: bytes) -> None:
        self.audio_output.write(pcm)

    def _on_chat(self, message: ChatMessage) -> None:
        if shiboken6.isValid(self):
            self.chatMessage.emit(message)

    def _on_ended(self, message: str) -> None:
        asyncio.ensure_future(self.leave(message))

    async def _release(self) -> None:
        async with self._legs:
            await self._release_legs()

    async def _release_legs(self) -> None:
        session, self.session = self.session, None
        chat, self.chat = self.chat, None
        if chat is not None:
            with contextlib.suppress(JanusGone, JanusRefused, OSError):
                await chat.close()
        for sink in self._tiles.values():
            sink.close()
        self._tiles.clear()
        self._self_view.detach()
        self._pump.detach()
        self.audio_output.stop()
        if session is not None:
            with contextlib.suppress(JanusGone, JanusRefused, OSError):
                await session.leave()
            if session.sharing_screen or self._screen_player or self._grabber:
                self.screenShareChanged.emit(False)
        self._stop_screen_source()
        if self.media is not None:
            self.media.close()
            self.media = None
        self.participants = []


def _renewal(again: Credential) -> Callable[[], Awaitable[GroupJoin]]:
    """The session's renew: the server refusing (removed, ended, cancelled) is final."""

    async def renew() -> GroupJoin:
        try:
            return await again()
        except ServerRefused as refused:
            raise RejoinRefused(str(refused)) from None

    return renew
