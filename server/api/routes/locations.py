"""Locations: everyone signed in reads them; admins create and change them."""

from uuid import UUID

from fastapi import APIRouter, status
from sqlmodel import col, select

from server.api.deps import Admin, AnyUser, SessionDep
from server.api.error_responses import error_responses
from server.errors import not_found
from server.models.location import Location
from server.services.audit import record
from shared.schemas import LocationCreate, LocationPublic, LocationUpdate

router = APIRouter(prefix="/locations", tags=["locations"])


@router.get("", summary="List locations")
def list_locations(session: SessionDep, _caller: AnyUser) -> list[LocationPublic]:
    rows = session.exec(select(Location).order_by(col(Location.hospital_name)))
    return [LocationPublic.model_validate(row) for row in rows]


@router.get("/{location_id}", summary="One location")
def get_location(location_id: UUID, session: SessionDep, _caller: AnyUser) -> LocationPublic:
    row = session.get(Location, location_id)
    if row is None:
        raise not_found("Location")
    return LocationPublic.model_validate(row)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add a location",
    responses=error_responses(403),
)
def create_location(body: LocationCreate, session: SessionDep, caller: Admin) -> LocationPublic:
    row = Location.model_validate(body)
    session.add(row)
    record(session, caller, "location.create", "location", row.id)
    session.commit()
    return LocationPublic.model_validate(row)


@router.patch(
    "/{location_id}", summary="Change a location", responses=error_responses(403)
)
def update_location(
    location_id: UUID, body: LocationUpdate, session: SessionDep, caller: Admin
) -> LocationPublic:
    row = session.get(Location, location_id)
    if row is None:
        raise not_found("Location")
    row.sqlmodel_update(body.model_dump(exclude_unset=True, exclude_none=True))
    session.add(row)
    record(session, caller, "location.update", "location", row.id)
    session.commit()
    return LocationPublic.model_validate(row)
