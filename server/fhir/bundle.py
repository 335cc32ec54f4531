"""Searchset Bundles with paging links (_count and _offset)."""

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from sqlalchemy import func
from sqlmodel import Session, select

from server.fhir.outcome import FhirError

DEFAULT_COUNT = 50
MAX_COUNT = 500
MAX_OFFSET = 1_000_000


def paging(request: Request) -> tuple[int, int]:
    """The page size and offset asked for (400 when not whole numbers in range)."""
    try:
        count = int(request.query_params.get("_count", DEFAULT_COUNT))
        offset = int(request.query_params.get("_offset", 0))
    except ValueError:
        raise FhirError(400, "_count and _offset must be whole numbers.") from None
    if not 0 <= count <= MAX_COUNT or not 0 <= offset <= MAX_OFFSET:
        raise FhirError(400, f"_count must be 0-{MAX_COUNT} and _offset 0-{MAX_OFFSET}.")
    return count, offset


def _link(request: Request, relation: str, offset: int, count: int) -> dict[str, str]:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "_offset"]
    params.append(("_offset", str(offset)))
    if "_count" not in request.query_params:
        params.append(("_count", str(count)))
    return {"relation": relation, "url": str(request.url.replace(query=urlencode(params)))}


def searchset(
    request: Request, resources: list[dict[str, Any]], total: int, count: int, offset: int
) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/")
    links = [{"relation": "self", "url": str(request.url)}]
    if offset + count < total:
        links.append(_link(request, "next", offset + count, count))
    if offset > 0:
        links.append(_link(request, "previous", max(0, offset - count), count))
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in resources
        ],
    }


def only_params(request: Request, allowed: set[str]) -> None:
    """400 for a search parameter this server does not support (rather than ignoring it)."""
    unknown = sorted(set(request.query_params) - allowed - {"_count", "_offset", "_format"})
    if unknown:
        raise FhirError(400, f"Unsupported search parameter: {unknown[0][:60]}.")


def page_of(session: Session, query: Any, order: tuple[Any, ...], count: int, offset: int
            ) -> tuple[list[Any], int]:
    """One page of `query` and the total it matches.

    One row more than the page is read: when the page is not full the total is known without
    a second (COUNT) query, which a day's search usually is.
    """
    rows = list(session.exec(query.order_by(*order).offset(offset).limit(count + 1)))
    if len(rows) <= count and (rows or offset == 0):
        return rows, offset + len(rows)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    return rows[:count], total
