"""What a desktop needs to start a call: the STUN/TURN servers the hospital runs."""

from datetime import timedelta
from uuid import UUID

from fastapi import APIRouter

from server.api.deps import SessionDep, SettingsDep, Staff
from server.api.error_responses import error_responses
from server.security.access_rules import require_visible
from server.services import booking
from server.services.call_ice import CallIce, call_valid_until, ice_servers_for_call
from server.settings import IceServerSetting

router = APIRouter(prefix="/calls", tags=["calls"], responses=error_responses(403))


@router.get("/ice-servers", summary="The static STUN/TURN servers (no per-call credentials)")
def ice_servers(settings: SettingsDep, _caller: Staff) -> list[IceServerSetting]:
    # Desktops before per-call credentials ask this; current ones ask the call's own list.
    return settings.ice_servers


@router.get(
    "/{appointment_id}/ice-servers",
    summary="The call's ICE servers: TURN credentials minted for it, and the transport policy",
)
def call_ice_servers(
    appointment_id: UUID, session: SessionDep, settings: SettingsDep, caller: Staff
) -> CallIce:
    row = booking.get(session, appointment_id)
    require_visible(session, caller.user, row.clinician_id)
    booked_end = row.start + timedelta(minutes=row.duration_minutes)
    valid_until = call_valid_until(settings, booked_end, caller.now)
    return ice_servers_for_call(settings, str(row.id), valid_until)
