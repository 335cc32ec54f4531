"""An app-wide dependency that refuses query parameters the route does not declare (422).

A misspelt filter (`?clinican_id=`) would otherwise be ignored and answer the unfiltered list.
"""

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.requests import HTTPConnection

from server.errors import ApiError
from shared.errors import FieldError


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def reject_unknown_query(connection: HTTPConnection) -> None:
    route = connection.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    unknown = sorted(set(connection.query_params) - _query_names(route.dependant))
    if unknown:
        fields = [FieldError(f"query.{name}", "Unknown query parameter.") for name in unknown]
        message = f"Unknown query parameter: {', '.join(unknown)}."
        raise ApiError(422, "invalid", message, fields)
