"""Widgets every feature shares: the message banner, form sections, the crash dialog."""
