"""The patient's waiting-room web page: GET /join and its few static files (no build, no CDN).

The token rides in the link's fragment (/join#TOKEN), which browsers never send: the page reads
it and posts it to /patient/join. Strict headers: same-origin only, no referrer, no framing.
"""

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from server.errors import body

router = APIRouter(tags=["patient pages"])

_FOLDER = Path(__file__).resolve().parents[2] / "patient_web"
_FILES = {
    "waiting-room.css": "text/css; charset=utf-8",
    "waiting-room.js": "text/javascript; charset=utf-8",
    "call.css": "text/css; charset=utf-8",
    "call.js": "text/javascript; charset=utf-8",
    "group-call.css": "text/css; charset=utf-8",
    "group-call.js": "text/javascript; charset=utf-8",
    "format.js": "text/javascript; charset=utf-8",
    "icon.svg": "image/svg+xml",
}
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "media-src 'self' blob: mediastream:; connect-src 'self' ws: wss:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "camera=(self), microphone=(self), autoplay=(self)",
    "Cache-Control": "no-store",
}


def join_page(_request: Request) -> Response:
    return FileResponse(
        _FOLDER / "index.html", media_type="text/html; charset=utf-8", headers=_HEADERS
    )


def static_file(request: Request) -> Response:
    name = request.path_params["name"]
    media_type = _FILES.get(name)
    if media_type is None:
        return JSONResponse(body("not_found", "File not found."), status_code=404)
    headers = _HEADERS | {"Cache-Control": "no-cache"}
    return FileResponse(_FOLDER / name, media_type=media_type, headers=headers)


# Plain routes, not API routes: a link an email client decorated with tracking parameters
# (?utm_source=...) must still open the page, so the API's unknown-query check stays out.
router.add_route("/join", join_page, methods=["GET"], include_in_schema=False)
router.add_route("/patient/static/{name}", static_file, methods=["GET"], include_in_schema=False)
