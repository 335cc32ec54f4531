"""Schemathesis fuzzes every operation of a server on loopback for two examples each (bounded:
seconds, not minutes): no server error, every status and every body as the schema declares."""

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation.case import Case

from tests.server.conftest import Clinic
from tests.server.live_server import live
from tests.server.postgres import free_port

#: Checks of each answer. schemathesis's pytest integration does not run on this pytest (it is
#: off in pyproject.toml): the operations are walked here with Hypothesis directly.
_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_the_schema_holds_for_generated_requests(
    database_url: str, app: FastAPI, clinic: Clinic
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the schema is the same on both databases; one fuzzing run is enough")
    with live(app, free_port()) as base:
        schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
        assert len(operations) > 30
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(
                max_examples=2,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def fuzz(case: Case[Any]) -> None:
                case.call_and_validate(
                    base_url=base, headers=clinic.auth("clerk"), checks=_CHECKS
                )

            fuzz()
