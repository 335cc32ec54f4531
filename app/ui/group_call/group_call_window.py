"""The group call window: up to 9 tiles a page (PgUp / PgDn), the active speaker first and
lit up, a screen shared into the room as a large tile above them, those waiting to be admitted
and the participant list beside them with the room controls (mute or remove the selected
participant, lock, end for all), the chat to everyone, and the call's own controls (mute,
camera, share screen, leave)."""

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QCloseEvent, QImage, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.media.group_chat import ChatMessage
from app.media.group_session import GroupParticipant, screen_feed
from app.services.group_call_service import GroupCallService
from app.ui.call.video_widget import VideoWidget
from app.ui.group_call.chat_panel import ChatPanel
from app.ui.group_call.gallery_order import PAGE_SIZE, gallery, next_speaker, page_count, page_of
from app.ui.group_call.participant_list import ParticipantList
from app.ui.group_call.room_controls import RoomControls
from app.ui.group_call.tile import Tile
from app.ui.group_call.waiting_list import WaitingList
from shared.errors import KnownError

log = logging.getLogger("clinicdesk.ui")

_COLUMNS = 3
_LEAVE_STYLE = (
    "QPushButton { background: #c62828; color: white; font-weight: bold; padding: 6px 18px; "
    "border-radius: 4px; } QPushButton:disabled { background: #b0b0b0; }"
)


class GroupCallWindow(QWidget):
    """Built over a GroupCallService; shows what it signals and calls it for every control."""

    def __init__(self, service: GroupCallService, title: str, parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.Window)
        self.service = service
        self.setWindowTitle(f"Group call — {title}")
        self.resize(1280, 800)
        self.page = 0
        self.speaker: str | None = None
        self.participants: list[GroupParticipant] = []
        self.shown: list[str] = []
        #: Screen shares in the room (feed -> the sharer's name); the first is the large tile.
        self.screens: dict[str, str] = {}
        #: The call ended for this window (its buttons stay off).
        self.over = False
        self._tasks: set[asyncio.Future[Any]] = set()

        self.notice = QLabel("Joining the group call…", self)
        self.notice.setWordWrap(True)
        self.tiles = [Tile(self) for _ in range(PAGE_SIZE)]
        self.screen_tile = Tile(self)
        self.screen_tile.hide()
        grid = QGridLayout()
        grid.setSpacing(6)
        for index, tile in enumerate(self.tiles):
            grid.addWidget(tile, index // _COLUMNS, index % _COLUMNS)
            tile.hide()
        self.waiting_list = WaitingList(self)
        self.participant_list = ParticipantList(self)
        self.room_controls = RoomControls(self)
        self.chat_panel = ChatPanel(self)
        self.chat_panel.setFixedWidth(260)
        self.self_view = VideoWidget("You", self)
        self.self_view.setFixedSize(220, 124)
        self.page_label = QLabel(self)
        self.previous_button = QPushButton("◀ Page up", self)
        self.next_button = QPushButton("Page down ▶", self)
        self.mute_button = QPushButton("Mute", self)
        self.mute_button.setCheckable(True)
        self.camera_button = QPushButton("Camera off", self)
        self.camera_button.setCheckable(True)
        self.share_button = QPushButton("Share screen", self)
        self.share_button.setCheckable(True)
        self.share_button.setToolTip("Show your screen to everyone in the call, as a large tile")
        self.leave_button = QPushButton("Leave", self)
        self.leave_button.setStyleSheet(_LEAVE_STYLE)

        # The side panel keeps its width: the gallery has the rest, tiles or not.
        side_panel = QWidget(self)
        side_panel.setFixedWidth(280)
        side = QVBoxLayout(side_panel)
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self.waiting_list)
        side.addWidget(QLabel("Participants", self))
        side.addWidget(self.participant_list, 1)
        side.addWidget(self.room_controls)
        talk = QVBoxLayout()
        talk.addWidget(self.chat_panel, 1)
        talk.addWidget(self.self_view)
        stage = QWidget(self)
        stage_layout = QVBoxLayout(stage)
        stage_layout.setContentsMargins(0, 0, 0, 0)
        stage_layout.addWidget(self.screen_tile, 3)
        stage_layout.addLayout(grid, 2)
        stage.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        body = QHBoxLayout()
        body.addWidget(stage, 1)
        body.addWidget(side_panel)
        body.addLayout(talk)
        controls = QHBoxLayout()
        for widget in (self.previous_button, self.page_label, self.next_button):
            controls.addWidget(widget)
        controls.addStretch(1)
        for widget in (self.mute_button, self.camera_button, self.share_button, self.leave_button):
            controls.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addLayout(body, 1)
        layout.addLayout(controls)

        QShortcut(QKeySequence(Qt.Key.Key_PageUp), self, self.previous_page)
        QShortcut(QKeySequence(Qt.Key.Key_PageDown), self, self.next_page)
        self.previous_button.clicked.connect(self.previous_page)
        self.next_button.clicked.connect(self.next_page)
        self.mute_button.toggled.connect(self._mute_toggled)
        self.camera_button.toggled.connect(self._camera_toggled)
        self.share_button.toggled.connect(self._share_toggled)
        self.leave_button.clicked.connect(self._leave)
        self.participant_list.chosenChanged.connect(self.room_controls.select)
        service.participantsChanged.connect(self.show_participants)
        service.tileImage.connect(self._tile_image)
        service.selfFrame.connect(self.self_view.show_image)
        service.mutedChanged.connect(self._muted_changed)
        service.ended.connect(self.show_ended)
        service.reconnecting.connect(self.show_notice)
        service.reconnected.connect(self._reconnected)
        service.screensChanged.connect(self.show_screens)
        service.screenShareChanged.connect(self._sharing_changed)
        service.chatMessage.connect(self._chat_message)
        service.chatReady.connect(self.chat_panel.set_ready)
        self.chat_panel.sendRequested.connect(self._send_chat)
        self._lay_out_page()

    # -- what the service says -----------------------------------------------------------------

    @Slot(list)
    def show_participants(self, participants: list[GroupParticipant]) -> None:
        if self.participants == [] and participants:
            self.notice.hide()
        self.participants = participants
        self.speaker = next_speaker(participants, self.speaker)
        self.participant_list.show_participants(participants)
        self._lay_out_page()

    def show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.show()

    @Slot()
    def _reconnected(self) -> None:
        self.show_notice("Reconnected to the group call.")

    @Slot(dict)
    def show_screens(self, screens: dict[str, str]) -> None:
        """The room's screen shares: the first (not this desktop's own) is the large tile."""
        self.screens = screens
        self._lay_out_page()

    def screen_shown(self) -> str | None:
        own = screen_feed(self.service.session.join.id) if self.service.session else None
        return next((feed for feed in self.screens if feed != own), None)

    @Slot(str)
    def show_ended(self, message: str) -> None:
        self.over = True
        self.show_notice(message)
        for button in (self.mute_button, self.camera_button, self.share_button,
                       self.leave_button):
            button.setEnabled(False)
        self.room_controls.finish()
        self.chat_panel.set_ready(False, "The call is over: the chat is closed.")
        for tile in (*self.tiles, self.screen_tile):
            tile.hide()

    @Slot(object)
    def _chat_message(self, message: ChatMessage) -> None:
        self.chat_panel.add_message(message)

    @Slot(str, QImage)
    def _tile_image(self, participant_id: str, image: QImage) -> None:
        for tile in (*self.tiles, self.screen_tile):
            if tile.participant_id == participant_id and tile.isVisible():
                tile.show_image(image)

    @Slot(bool)
    def _muted_changed(self, muted: bool) -> None:
        self.mute_button.blockSignals(True)
        self.mute_button.setChecked(muted)
        self.mute_button.setText("Unmute" if muted else "Mute")
        self.mute_button.blockSignals(False)

    # -- paging --------------------------------------------------------------------------------

    def order(self) -> list[str]:
        return gallery(self.participants, self.speaker)

    def previous_page(self) -> None:
        if self.page > 0:
            self.page -= 1
            self._lay_out_page()

    def next_page(self) -> None:
        if self.page + 1 < page_count(len(self.order())):
            self.page += 1
            self._lay_out_page()

    def _lay_out_page(self) -> None:
        order = self.order()
        pages = page_count(len(order))
        self.page = min(self.page, pages - 1)
        ids = page_of(order, self.page)
        by_id = {p.id: p for p in self.participants}
        for index, tile in enumerate(self.tiles):
            participant = by_id.get(ids[index]) if index < len(ids) else None
            speaker = participant is not None and participant.id == self.speaker
            tile.show_participant(participant, speaker)
        self.page_label.setText(f"Page {self.page + 1} of {pages}")
        self.previous_button.setEnabled(self.page > 0)
        self.next_button.setEnabled(self.page + 1 < pages)
        screen = self.screen_shown()
        self.screen_tile.show_participant(
            GroupParticipant(screen, self.screens[screen], video=True) if screen else None, False
        )
        with_video = ([screen] if screen else []) + [i for i in ids if by_id[i].video]
        if with_video != self.shown:
            self.shown = with_video
            self._run(self.service.show(with_video))
        if self.tiles[0].isVisible():
            size = self.tiles[0].video.size()
            self.service.set_tile_size(size.width(), size.height())
        if screen is not None:
            size = self.screen_tile.video.size()
            self.service.set_screen_size(size.width(), size.height())

    # -- controls ------------------------------------------------------------------------------

    def _mute_toggled(self, muted: bool) -> None:
        self._run(self.service.set_muted(muted))

    def _camera_toggled(self, off: bool) -> None:
        self.service.set_camera_enabled(not off)
        self.camera_button.setText("Camera on" if off else "Camera off")

    def _share_toggled(self, on: bool) -> None:
        self.share_button.setEnabled(False)
        self._run(self._share(on))

    async def _share(self, on: bool) -> None:
        try:
            await self.service.set_screen_share(on)
        except KnownError as error:
            self.show_notice(str(error))
        finally:
            self._sharing_changed(self.service.sharing_screen)

    @Slot(bool)
    def _sharing_changed(self, sharing: bool) -> None:
        self.share_button.blockSignals(True)
        self.share_button.setChecked(sharing)
        self.share_button.setText("Stop sharing" if sharing else "Share screen")
        self.share_button.setEnabled(not self.over)
        self.share_button.blockSignals(False)

    def _send_chat(self, text: str) -> None:
        self._run(self._chat_out(text))

    async def _chat_out(self, text: str) -> None:
        try:
            await self.service.send_chat(text)
        except KnownError as error:
            self.chat_panel.not_sent(str(error))
            return
        self.chat_panel.sent()

    def _leave(self) -> None:
        self.leave_button.setEnabled(False)
        self._run(self.service.leave())

    def _run(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.service.in_call:
            self._run(self.service.leave())
        super().closeEvent(event)
