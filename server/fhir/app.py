"""The FHIR sub-application mounted at /fhir/r4: its routes and OperationOutcome errors."""

import re

from fastapi import FastAPI
from starlette.routing import Mount

from server.fhir import appointment_routes, capability, people_routes, token_route
from server.fhir.outcome import install_outcome_handlers

PREFIX = "/fhir/r4"


def mount_fhir(app: FastAPI) -> None:
    """Serve FHIR under PREFIX, sharing the main app's state (engine, settings, clock, hub)."""
    fhir = FastAPI(title="Clinic Desk FHIR R4", docs_url=None, redoc_url=None, openapi_url=None)
    fhir.state = app.state
    install_outcome_handlers(fhir)
    for module in (capability, token_route, appointment_routes, people_routes):
        fhir.include_router(module.router)
    app.mount(PREFIX, fhir)
    mount = app.routes[-1]
    assert isinstance(mount, Mount)
    # A path with an (encoded) newline must still reach FHIR's handlers and be answered with
    # an OperationOutcome: Starlette's mount pattern `.*` stops at a newline.
    mount.path_regex = re.compile(mount.path_regex.pattern, re.DOTALL)
