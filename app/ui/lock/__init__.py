"""The idle privacy lock."""
