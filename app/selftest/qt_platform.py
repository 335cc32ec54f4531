"""Pick the Qt platform before Qt is imported: the self-test never needs or uses a screen."""

import os


def use_offscreen_unless_chosen() -> str:
    """Set QT_QPA_PLATFORM=offscreen unless the caller chose one; return the platform used.

    IT can still check the real windowing plugin with e.g. ``QT_QPA_PLATFORM=xcb``.
    """
    chosen = os.environ.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        return chosen
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    return "offscreen"
