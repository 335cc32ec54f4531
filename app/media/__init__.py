"""Calls: aiortc peer connections, capture and playback (calls issue)."""
