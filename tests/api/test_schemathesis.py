"""Schemathesis against ``/openapi.json`` of the live server: no 5xx, every answer fits the schema.

Every operation of the running app (the platform's and any other route module's) gets a few
generated requests, as an operator (who may call everything) and anonymously. Kept bounded: a
handful of examples per operation, so the whole run stays well under a minute per backend.
"""

from __future__ import annotations

from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck
from hypothesis import strategies as st
from live_server import Live, idem
from schemathesis import checks

EXAMPLES_PER_OPERATION = 6
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


def test_generated_requests_find_no_server_error_and_no_schema_violation(live: Live) -> None:
    seller = live.signup(roles=("buyer", "seller"))
    live.deposit(seller, 100_000)
    listing = live.listing(seller)
    raw = live.client.get("/openapi.json")
    assert raw.status_code == 200
    schema = schemathesis.openapi.from_dict(raw.json())
    keys = {"operator": live.operator.key, "seller": seller.key}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        strategy = operation.as_strategy()

        @hypothesis.settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        )
        @hypothesis.given(case=strategy, who=st.sampled_from(["operator", "seller", None]))
        def exercise(case: Any, who: str | None) -> None:
            headers: dict[str, str] = {}
            if who is not None:
                headers["Authorization"] = f"Bearer {keys[who]}"
            if case.method.upper() in ("POST", "PUT", "PATCH", "DELETE") and (
                not case.headers or "Idempotency-Key" not in case.headers
            ):
                headers.update(idem())
            if case.path_parameters:
                # Point generated ids at real objects half the time, so the deeper code runs.
                for name in case.path_parameters:
                    if name == "listing_id" and hash(str(case.body)) % 2:
                        case.path_parameters[name] = listing["id"]
                    elif name in ("account_id", "seller_id") and hash(str(case.body)) % 2:
                        case.path_parameters[name] = seller.id
            response = case.call(base_url=live.url, headers=headers, timeout=30)
            case.validate_response(response, checks=CHECKS)

        try:
            exercise()
        except Exception as error:  # collect every operation's failure, report them together
            failures.append(f"{operation.label}: {type(error).__name__}: {str(error)[:2000]}")
    assert operations >= 15
    assert not failures, "\n\n".join(failures)
