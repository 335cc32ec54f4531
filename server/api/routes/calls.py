"""What a desktop needs to start a call: the STUN/TURN servers the hospital runs."""

from fastapi import APIRouter

from server.api.deps import SettingsDep, Staff
from server.api.error_responses import error_responses
from server.settings import IceServerSetting

router = APIRouter(prefix="/calls", tags=["calls"], responses=error_responses(403))


@router.get("/ice-servers", summary="STUN/TURN servers for calls (RTCIceServer's fields)")
def ice_servers(settings: SettingsDep, _caller: Staff) -> list[IceServerSetting]:
    return settings.ice_servers
