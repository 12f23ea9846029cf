"""Quote Approval API v1: the reference candidate.

One file defining a module-level ASGI ``app``, as every model is asked to
write. It passes every check of the suite; ``faults.py`` edits exact snippets
of it to make the wrong answers the simulated models start from, so change a
line here only together with the faults that name it.
"""

import asyncio
import json
import uuid
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

PENDING = "PENDING_APPROVAL"
AUTO = "AUTO_APPROVED"
APPROVED = "APPROVED"
REJECTED = "REJECTED"
STATUSES = (PENDING, AUTO, APPROVED, REJECTED)

TOTAL_LIMIT = Decimal("1000.00")
DISCOUNT_LIMIT = Decimal("10")
MAX_LINES = 100
CENT = Decimal("0.01")
ZERO = Decimal("0")

M = TypeVar("M", bound="Body")

# No redirect from /quotes/ to /quotes: a path with a trailing slash is unknown (404).
app = FastAPI(title="Quote Approval API", version="1", redirect_slashes=False)

# Insertion order of a dict is creation order, which the listing must keep.
QUOTES: dict[str, dict[str, Any]] = {}
# Check-and-set of a decision must be atomic across concurrent requests.
DECISION_LOCK = asyncio.Lock()


def json_number(value: Any) -> Any:
    """A JSON number only: pydantic's lax Decimal would also take the string "10.5"."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON number")
    return value


Number = Annotated[Decimal, BeforeValidator(json_number)]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Line(Body):
    sku: str = Field(min_length=1, max_length=32)
    description: str = Field(default="", max_length=200)
    quantity: StrictInt = Field(ge=1, le=10000)
    unit_price: Number = Field(ge=0, le=1000000)
    discount_percent: Number = Field(default=ZERO, ge=0, le=100)


class CreateQuote(Body):
    customer_id: str = Field(min_length=1, max_length=64)
    currency: Literal["AUD", "USD", "EUR", "GBP"]
    lines: list[Line] = Field(min_length=1, max_length=MAX_LINES)
    order_discount_percent: Number = Field(default=ZERO, ge=0, le=100)


class Approve(Body):
    approver: str = Field(min_length=1, max_length=64)
    comment: str | None = Field(default=None, max_length=500)


class Reject(Body):
    approver: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=500)


class ApiError(Exception):
    def __init__(
        self, status: int, title: str, detail: str, errors: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.errors = status, title, detail, errors


def problem(
    status: int, title: str, detail: str, errors: list[dict[str, str]] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


@app.exception_handler(ApiError)
async def api_error(request: Request, exc: ApiError) -> JSONResponse:
    return problem(exc.status, exc.title, exc.detail, exc.errors)


@app.exception_handler(StarletteHTTPException)
async def routing_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    status = exc.status_code
    title = "Method Not Allowed" if status == 405 else "Not Found" if status == 404 else "Error"
    detail = f"{request.method} {request.url.path}: {exc.detail}"
    response = problem(status, title, detail)
    if status == 405 and exc.headers:
        response.headers.update(exc.headers)
    return response


def reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(part) for part in error["loc"]) or "body", "message": error["msg"]}
        for error in exc.errors()
    ]


async def read_json(request: Request, model: type[M]) -> M:
    """415 unless JSON, 400 unless it parses, 422 unless it validates."""
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type != "application/json":
        raise ApiError(
            415, "Unsupported Media Type",
            f"Content-Type must be application/json, not {content_type or 'missing'}",
        )
    try:
        # NaN and Infinity are not JSON, though json.loads takes them by default.
        data = json.loads(await request.body(), parse_constant=reject_constant)
    except ValueError as exc:
        raise ApiError(400, "Malformed JSON", f"the body is not valid JSON: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(
            422, "Validation Failed", "the body does not match the schema", field_errors(exc)
        ) from None


def round2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Decimal) -> float:
    return float(value)


def now_rfc3339() -> str:
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def approval_reasons(total: Decimal, body: CreateQuote) -> list[str]:
    reasons = []
    if total > TOTAL_LIMIT:
        reasons.append("TOTAL_OVER_LIMIT")
    if any(line.discount_percent > DISCOUNT_LIMIT for line in body.lines):
        reasons.append("LINE_DISCOUNT_OVER_LIMIT")
    if body.order_discount_percent > DISCOUNT_LIMIT:
        reasons.append("ORDER_DISCOUNT_OVER_LIMIT")
    return reasons


def build_quote(body: CreateQuote) -> dict[str, Any]:
    lines, line_totals = [], []
    for line in body.lines:
        line_total = round2(line.quantity * line.unit_price * (1 - line.discount_percent / 100))
        line_totals.append(line_total)
        lines.append(
            {
                "sku": line.sku,
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": money(line.unit_price),
                "discount_percent": money(line.discount_percent),
                "line_total": money(line_total),
            }
        )
    subtotal = round2(sum(line_totals, ZERO))
    order_discount_amount = round2(subtotal * body.order_discount_percent / 100)
    total = round2(subtotal - order_discount_amount)
    reasons = approval_reasons(total, body)
    return {
        "id": uuid.uuid4().hex,
        "customer_id": body.customer_id,
        "currency": body.currency,
        "lines": lines,
        "order_discount_percent": money(body.order_discount_percent),
        "subtotal": money(subtotal),
        "order_discount_amount": money(order_discount_amount),
        "total": money(total),
        "status": PENDING if reasons else AUTO,
        "approval_reasons": reasons,
        "decision": None,
        "created_at": now_rfc3339(),
    }


def find_quote(quote_id: str) -> dict[str, Any]:
    quote = QUOTES.get(quote_id)
    if quote is None:
        raise ApiError(404, "Quote Not Found", f"no quote has id {quote_id!r}")
    return quote


def ensure_undecided(quote: dict[str, Any]) -> None:
    if quote["status"] != PENDING:
        raise ApiError(
            409, "Conflict",
            f"quote {quote['id']} is {quote['status']}; only a {PENDING} quote can be decided",
        )


async def decide(quote_id: str, outcome: str, approver: str, note: str | None) -> JSONResponse:
    async with DECISION_LOCK:
        quote = find_quote(quote_id)
        ensure_undecided(quote)
        quote["status"] = outcome
        quote["decision"] = {
            "outcome": outcome,
            "approver": approver,
            "note": note,
            "decided_at": now_rfc3339(),
        }
    return JSONResponse(quote)


@app.post("/quotes")
async def create_quote(request: Request) -> JSONResponse:
    quote = build_quote(await read_json(request, CreateQuote))
    QUOTES[quote["id"]] = quote
    location = f"/quotes/{quote['id']}"
    return JSONResponse(quote, status_code=201, headers={"Location": location})


@app.get("/quotes")
async def list_quotes(status: str | None = None) -> JSONResponse:
    if status is not None and status not in STATUSES:
        raise ApiError(
            422, "Validation Failed", f"status must be one of {', '.join(STATUSES)}",
            [{"field": "status", "message": f"unknown status {status!r}"}],
        )
    items = [quote for quote in QUOTES.values() if status is None or quote["status"] == status]
    return JSONResponse({"items": items})


@app.get("/quotes/{quote_id}")
async def get_quote(quote_id: str) -> JSONResponse:
    return JSONResponse(find_quote(quote_id))


@app.post("/quotes/{quote_id}/approve")
async def approve(quote_id: str, request: Request) -> JSONResponse:
    body = await read_json(request, Approve)
    return await decide(quote_id, APPROVED, body.approver, body.comment)


@app.post("/quotes/{quote_id}/reject")
async def reject(quote_id: str, request: Request) -> JSONResponse:
    body = await read_json(request, Reject)
    return await decide(quote_id, REJECTED, body.approver, body.reason)
