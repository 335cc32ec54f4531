"""Which codec a session description settled on for audio or video (its first payload type)."""


def negotiated_codec(sdp: str, kind: str) -> str | None:
    """The codec name (e.g. "VP8", "opus") of the first payload of the first `m=<kind>` section."""
    lines = sdp.splitlines()
    for index, line in enumerate(lines):
        if not line.startswith(f"m={kind} "):
            continue
        fields = line.split()
        if len(fields) < 4:
            return None
        payload = fields[3]
        for attribute in lines[index + 1:]:
            if attribute.startswith("m="):
                break
            if attribute.startswith(f"a=rtpmap:{payload} "):
                return attribute.split(" ", 1)[1].split("/", 1)[0]
        return None
    return None
