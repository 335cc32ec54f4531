"""The API's pages, /docs (Swagger UI) and /redoc, served whole from this server (no CDN).

The Swagger UI and ReDoc scripts come from the `fastapi-offline` package; the pages and the
start-up script are ours, so that no inline script is needed and the CSP can forbid it. Off
with the `api_docs` setting; /openapi.json stays either way (the desktop and tests read it).
"""

from functools import cache
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from server.errors import body

router = APIRouter(tags=["api docs"])

_PAGES = Path(__file__).resolve().parents[2] / "api_docs_web"
_BUNDLED = Path(fastapi_offline.__file__).resolve().parent / "static"
_FILES = {
    "swagger-ui-bundle.js": (_BUNDLED, "text/javascript; charset=utf-8"),
    "swagger-ui.css": (_BUNDLED, "text/css; charset=utf-8"),
    "redoc.standalone.js": (_BUNDLED, "text/javascript; charset=utf-8"),
    "favicon.png": (_BUNDLED, "image/png"),
    "swagger-init.js": (_PAGES, "text/javascript; charset=utf-8"),
}
#: Styles inline are allowed (both UIs set them at run time; a style cannot run code); ReDoc
#: runs its search in a worker made from a blob.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _page(name: str) -> Response:
    return FileResponse(_PAGES / name, media_type="text/html; charset=utf-8", headers=_HEADERS)


def swagger_page(_request: Request) -> Response:
    return _page("swagger.html")


def redoc_page(_request: Request) -> Response:
    return _page("redoc.html")


#: ReDoc's one outside address (its maker's logo in the menu), pointed at our own icon.
_REDOC_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


@cache
def _redoc_script() -> bytes:
    return (_BUNDLED / "redoc.standalone.js").read_bytes().replace(
        _REDOC_LOGO, b"/docs/static/favicon.png"
    )


def static_file(request: Request) -> Response:
    found = _FILES.get(request.path_params["name"])
    if found is None:
        return JSONResponse(body("not_found", "File not found."), status_code=404)
    folder, media_type = found
    if request.path_params["name"] == "redoc.standalone.js":
        return Response(_redoc_script(), media_type=media_type, headers=_HEADERS)
    return FileResponse(
        folder / request.path_params["name"], media_type=media_type, headers=_HEADERS
    )


router.add_route("/docs", swagger_page, methods=["GET"], include_in_schema=False)
router.add_route("/redoc", redoc_page, methods=["GET"], include_in_schema=False)
router.add_route("/docs/static/{name}", static_file, methods=["GET"], include_in_schema=False)
