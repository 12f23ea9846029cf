"""spec/quote-approval encodes the v1 contract, and its prompts fill in cleanly."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from loopterm.tasks import Task, import_task_module


@pytest.fixture(scope="module")
def api(task: Task) -> dict[str, Any]:
    return yaml.safe_load(task.openapi)


def schema(api: dict[str, Any], name: str) -> dict[str, Any]:
    return api["components"]["schemas"][name]


def resolve(api: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        *_, kind, name = node["$ref"].split("/")
        node = api["components"][kind][name]
    return node


def test_is_openapi_3_1(api: dict[str, Any]) -> None:
    assert str(api["openapi"]).startswith("3.1")
    assert api["info"]["version"] == "1"


def test_enums_match_the_contract_and_the_suite(api: dict[str, Any], task: Task) -> None:
    helpers = import_task_module(task.id, task.validation_dir, "helpers")
    assert schema(api, "Currency")["enum"] == ["AUD", "USD", "EUR", "GBP"]
    assert (
        schema(api, "QuoteStatus")["enum"]
        == list(helpers.STATUSES)
        == ["PENDING_APPROVAL", "AUTO_APPROVED", "APPROVED", "REJECTED"]
    )
    assert (
        schema(api, "ApprovalReason")["enum"]
        == list(helpers.REASONS)
        == ["TOTAL_OVER_LIMIT", "LINE_DISCOUNT_OVER_LIMIT", "ORDER_DISCOUNT_OVER_LIMIT"]
    )
    outcome = schema(api, "Decision")["properties"]["outcome"]
    assert outcome["enum"] == ["APPROVED", "REJECTED"]


def bounds(prop: dict[str, Any]) -> tuple[Any, ...]:
    keys = ("type", "minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "default")
    return tuple(prop.get(k) for k in keys)


def test_request_bodies_have_the_contract_bounds_and_defaults(api: dict[str, Any]) -> None:
    line = schema(api, "LineInput")
    assert sorted(line["required"]) == ["quantity", "sku", "unit_price"]
    p = line["properties"]
    assert bounds(p["sku"]) == ("string", None, None, 1, 32, None, None, None)
    assert bounds(p["description"]) == ("string", None, None, None, 200, None, None, "")
    assert bounds(p["quantity"]) == ("integer", 1, 10000, None, None, None, None, None)
    assert bounds(p["unit_price"]) == ("number", 0, 1000000, None, None, None, None, None)
    assert bounds(p["discount_percent"]) == ("number", 0, 100, None, None, None, None, 0)

    create = schema(api, "CreateQuote")
    assert sorted(create["required"]) == ["currency", "customer_id", "lines"]
    p = create["properties"]
    assert bounds(p["customer_id"]) == ("string", None, None, 1, 64, None, None, None)
    assert bounds(p["lines"]) == ("array", None, None, None, None, 1, 100, None)
    assert bounds(p["order_discount_percent"]) == ("number", 0, 100, None, None, None, None, 0)

    approve, reject = schema(api, "Approve"), schema(api, "Reject")
    assert approve["required"] == ["approver"]
    assert bounds(approve["properties"]["approver"])[3:5] == (1, 64)
    assert bounds(approve["properties"]["comment"])[3:5] == (None, 500)
    assert sorted(reject["required"]) == ["approver", "reason"]
    assert bounds(reject["properties"]["reason"])[3:5] == (1, 500)


def test_quote_schema_has_every_field(api: dict[str, Any]) -> None:
    quote = schema(api, "Quote")
    fields = [
        "id",
        "customer_id",
        "currency",
        "lines",
        "order_discount_percent",
        "subtotal",
        "order_discount_amount",
        "total",
        "status",
        "approval_reasons",
        "decision",
        "created_at",
    ]
    assert quote["required"] == fields
    assert set(quote["properties"]) == set(fields)
    assert {"$ref": "#/components/schemas/Decision"} in quote["properties"]["decision"]["anyOf"]
    assert {"type": "null"} in quote["properties"]["decision"]["anyOf"]
    assert "line_total" in schema(api, "Line")["required"]
    assert schema(api, "QuoteList")["required"] == ["items"]


# method, path -> the status codes the contract's endpoint table lists
ENDPOINTS = {
    ("post", "/quotes"): {"201", "400", "415", "422"},
    ("get", "/quotes"): {"200", "422"},
    ("get", "/quotes/{id}"): {"200", "404"},
    ("post", "/quotes/{id}/approve"): {"200", "400", "404", "409", "415", "422"},
    ("post", "/quotes/{id}/reject"): {"200", "400", "404", "409", "415", "422"},
}


def test_endpoints_and_status_codes(api: dict[str, Any]) -> None:
    found = {(m, path) for path, item in api["paths"].items() for m in item if m != "parameters"}
    assert found == set(ENDPOINTS)
    for (method, path), codes in ENDPOINTS.items():
        responses = api["paths"][path][method]["responses"]
        assert set(responses) == codes, (method, path)
        for code, response in responses.items():
            content = resolve(api, response)["content"]
            want = "application/problem+json" if code.startswith("4") else "application/json"
            assert list(content) == [want], (method, path, code)


def test_create_sets_location_and_list_filters_by_status(api: dict[str, Any]) -> None:
    created = api["paths"]["/quotes"]["post"]["responses"]["201"]
    assert created["headers"]["Location"]["required"] is True
    (status,) = api["paths"]["/quotes"]["get"]["parameters"]
    assert status["name"] == "status" and status["in"] == "query"
    assert status["schema"] == {"$ref": "#/components/schemas/QuoteStatus"}


def test_problem_bodies(api: dict[str, Any]) -> None:
    problem = schema(api, "Problem")
    assert problem["required"] == ["type", "title", "status", "detail"]
    assert problem["properties"]["status"]["type"] == "integer"
    validation = schema(api, "ValidationProblem")["allOf"]
    assert validation[0] == {"$ref": "#/components/schemas/Problem"}
    assert validation[1]["required"] == ["errors"]
    assert schema(api, "FieldError")["required"] == ["field", "message"]
    failed = api["components"]["responses"]["ValidationFailed"]["content"]
    assert failed["application/problem+json"]["schema"]["$ref"].endswith("/ValidationProblem")


def test_rules_state_the_business_rules(task: Task) -> None:
    rules = task.rules
    for needle in (
        "half-up",
        "decimal",
        "1000.00",
        "TOTAL_OVER_LIMIT",
        "LINE_DISCOUNT_OVER_LIMIT",
        "ORDER_DISCOUNT_OVER_LIMIT",
        "PENDING_APPROVAL",
        "AUTO_APPROVED",
        "409",
        "asyncio.Lock",
        "application/problem+json",
        "lines.0.quantity",
        "StrictInt",
        "creation order",
        "405",
        "415",
        "2026-06-03T04:05:06Z",
        "fastapi",
        "starlette",
        "pydantic",
        "in memory",
        # What the suite checks beyond the obvious, so a model is told before it fails.
        "parse_constant",
        "redirect_slashes=False",
        "charset",
        '"10.5"',
        "`null`",
        "whole Quote",
        "as created",
        "two wrong fields lists both",
    ):
        assert needle in rules, needle
    # The three reasons are stated in their contract order.
    positions = [
        rules.index(f"{n}. `{r}`")
        for n, r in enumerate(("TOTAL_OVER_LIMIT", "LINE_DISCOUNT_OVER_LIMIT", "ORDER_DISCOUNT_OVER_LIMIT"), start=1)
    ]
    assert positions == sorted(positions)


PLACEHOLDER = re.compile(r"\$(openapi|rules|code|feedback|turn)\b|\$\{")


def test_first_prompt_carries_contract_rules_and_output_format(task: Task) -> None:
    prompt = task.first_prompt()
    assert task.openapi in prompt and task.rules in prompt
    assert not PLACEHOLDER.search(prompt)
    assert "ONE fenced ```python code block" in prompt
    assert "module-level ASGI application named\n  `app`" in prompt


def test_fix_prompt_carries_code_feedback_and_turn(task: Task) -> None:
    prompt = task.fix_prompt("app = 'CODE-MARKER'", "FEEDBACK-MARKER", 4)
    assert task.openapi in prompt and task.rules in prompt
    assert "```python\napp = 'CODE-MARKER'\n```" in prompt
    assert "FEEDBACK-MARKER" in prompt and "turn 4" in prompt
    assert not PLACEHOLDER.search(prompt)
    assert "complete corrected file" in prompt and "ONE fenced ```python code block" in prompt
