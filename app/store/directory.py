"""Staff members and locations: the short lists the dialogs and filters offer."""

from uuid import UUID

from sqlmodel import Session, col, select

from app.store.tables import LocationRow, StaffRow
from shared.enums import Role
from shared.records import Location, StaffMember


def staff_from_row(row: StaffRow) -> StaffMember:
    return StaffMember(id=row.id, name=row.name, role=Role(row.role))


def location_from_row(row: LocationRow) -> Location:
    return Location(id=row.id, hospital_name=row.hospital_name, address=row.address)


def list_staff(session: Session, role: Role | None = None) -> list[StaffMember]:
    query = select(StaffRow).order_by(col(StaffRow.name))
    if role is not None:
        query = query.where(StaffRow.role == role.value)
    return [staff_from_row(row) for row in session.exec(query)]


def list_locations(session: Session) -> list[Location]:
    query = select(LocationRow).order_by(col(LocationRow.hospital_name))
    return [location_from_row(row) for row in session.exec(query)]


def add_staff(session: Session, member: StaffMember) -> StaffMember:
    session.add(StaffRow(id=member.id, name=member.name, role=member.role.value))
    return member


def add_location(session: Session, location: Location) -> Location:
    session.add(
        LocationRow(
            id=location.id, hospital_name=location.hospital_name, address=location.address
        )
    )
    return location


def get_staff(session: Session, staff_id: UUID) -> StaffMember | None:
    row = session.get(StaffRow, staff_id)
    return staff_from_row(row) if row else None


def replace_directory(
    session: Session, staff: list[StaffMember], locations: list[Location]
) -> None:
    """Take the server's staff and locations (placeholders get their real names). Nobody is
    deleted: old appointments still name staff who have left."""
    for member in staff:
        row = session.get(StaffRow, member.id) or StaffRow(id=member.id, name="", role="")
        row.name, row.role = member.name, member.role.value
        session.add(row)
    for location in locations:
        found = session.get(LocationRow, location.id)
        place = found or LocationRow(id=location.id, hospital_name="")
        place.hospital_name, place.address = location.hospital_name, location.address
        session.add(place)
