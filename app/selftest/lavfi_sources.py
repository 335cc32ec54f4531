"""The test camera and microphone: PyAV lavfi sources standing in for real devices."""

from aiortc.contrib.media import MediaPlayer

CAMERA_WIDTH = 640
CAMERA_HEIGHT = 480
CAMERA_SOURCE = f"testsrc=size={CAMERA_WIDTH}x{CAMERA_HEIGHT}:rate=30"
MICROPHONE_SOURCE = "sine=frequency=440"


def camera_player() -> MediaPlayer:
    """A 640x480, 30 fps test pattern, played in real time like a camera."""
    return MediaPlayer(CAMERA_SOURCE, format="lavfi")


def microphone_player() -> MediaPlayer:
    """A 440 Hz tone, played in real time like a microphone."""
    return MediaPlayer(MICROPHONE_SOURCE, format="lavfi")
