"""Which participants the gallery shows, in what order, page by page (no Qt: plain rules)."""

from collections.abc import Sequence

from app.media.group_session import GroupParticipant

#: Tiles on one page of the gallery (3 x 3).
PAGE_SIZE = 9


def next_speaker(participants: Sequence[GroupParticipant], current: str | None) -> str | None:
    """The active speaker: the current one while they talk, else the first other who talks.

    Someone who stops talking stays the active speaker until another starts, as people expect.
    """
    talking = [p.id for p in participants if p.talking and not p.me]
    if current in talking:
        return current
    if talking:
        return talking[0]
    known = {p.id for p in participants}
    return current if current in known else None


def gallery(participants: Sequence[GroupParticipant], speaker: str | None) -> list[str]:
    """Everyone but oneself, in the order they joined, with the active speaker first."""
    others = [p.id for p in participants if not p.me]
    if speaker in others:
        others.remove(speaker)
        others.insert(0, speaker)
    return others


def page_count(total: int, size: int = PAGE_SIZE) -> int:
    return max(1, -(-total // size))


def page_of(order: Sequence[str], page: int, size: int = PAGE_SIZE) -> list[str]:
    """The ids on `page` (0-based; clamped to the last page)."""
    page = min(max(0, page), page_count(len(order), size) - 1)
    return list(order[page * size : (page + 1) * size])
