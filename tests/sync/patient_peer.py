"""A patient without a browser for the desktop's call tests: the product's patient socket
(app/demo/patient_socket.py) and the tests' lavfi peer answering the call."""

from app.demo.patient_socket import PatientSocketSignalling, token_of
from app.media.call_session import CallRole
from tests.media_peers import Peer, quick_options

__all__ = ["PatientSocketSignalling", "patient_in_waiting_room", "token_of"]


async def patient_in_waiting_room(server_url: str, link: str) -> Peer:
    """The patient's page open in the waiting room, ready to answer a call."""
    signalling = PatientSocketSignalling(server_url, token_of(link))
    await signalling.enter()
    peer = Peer(signalling, CallRole.CALLEE, quick_options(), tone=880)  # type: ignore[arg-type]
    await peer.session.start()
    return peer
