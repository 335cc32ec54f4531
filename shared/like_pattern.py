"""SQL LIKE patterns from typed text: `%` and `_` are matched as themselves, not as wildcards."""

#: The escape character the patterns use (pass it as `escape=` to like / ilike).
LIKE_ESCAPE = "\\"


def escape_like(text: str) -> str:
    """`text` with LIKE's wildcards and the escape character escaped."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
