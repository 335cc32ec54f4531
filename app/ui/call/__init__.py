"""The call window and its parts (video, self-view, chat, quality) and its controller."""
