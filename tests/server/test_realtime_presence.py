"""Waiting-room presence reaches exactly the desktops allowed to see the appointment."""

from contextlib import ExitStack

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from server.errors import ApiError
from shared.realtime_protocol import PresenceState
from tests.server.api_helpers import Api
from tests.server.conftest import NOW, Clinic
from tests.server.realtime_helpers import presence, receive, sign_in


def test_presence_goes_to_the_desktops_that_see_the_appointment(
    app: FastAPI, engine: Engine, clinic: Clinic
) -> None:
    users = ["ng", "okafor", "clerk", "lee", "clerk2"]
    with TestClient(app) as client, ExitStack() as stack:
        sockets = {u: stack.enter_context(client.websocket_connect("/realtime")) for u in users}
        for user, socket in sockets.items():
            sign_in(socket, clinic.tokens[user])

        # Dr Okafor's appointment: Okafor and Dr Ng (delegate) see it; the clerks and Lee do not.
        presence(app, engine, clinic.ids["okafor_appointment"], PresenceState.ENTERED, NOW)
        for user in ("okafor", "ng"):
            event = receive(sockets[user])
            assert event == {
                "type": "presence",
                "appointment_id": str(clinic.ids["okafor_appointment"]),
                "state": "entered",
                "at": "2026-11-26T08:00:00Z",
                "people": 1,
            }
        # The next events they may see arrive first: the one above never reached them.
        presence(app, engine, clinic.ids["ng_appointment"], PresenceState.LEFT, NOW)
        presence(app, engine, clinic.ids["lee_appointment"], PresenceState.ENTERED, NOW)
        clerk_event = receive(sockets["clerk"])
        assert (clerk_event["appointment_id"], clerk_event["state"]) == (
            str(clinic.ids["ng_appointment"]),
            "left",
        )
        assert receive(sockets["lee"])["appointment_id"] == str(clinic.ids["lee_appointment"])
        assert receive(sockets["ng"])["appointment_id"] == str(clinic.ids["ng_appointment"])
        # Clerk 2 sees no schedule: a broadcast (changes) is the first thing it gets.
        Api(client, clinic).call("clerk", "POST", "/patients", {"name": "Bo"}, expect=201)
        assert receive(sockets["clerk2"])["type"] == "changes"


def test_presence_of_an_unknown_appointment_is_refused(
    app: FastAPI, engine: Engine, clinic: Clinic
) -> None:
    with pytest.raises(ApiError) as refused:
        presence(app, engine, clinic.ids["patient"], PresenceState.ENTERED, NOW)
    assert refused.value.status == 404
