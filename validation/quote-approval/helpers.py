"""What the quote-approval checks share: requests, expected amounts, messages.

Every failure message has the same three parts, because it is the model's
feedback: ``sent <request>; expected <what the contract says>; got <answer>``,
with bodies clipped so one message stays one short line. A check fails only
through :class:`CheckFailed`: a candidate's odd answer (no JSON, a missing
field, a wrong type, no response at all) becomes a message, never a crash.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import httpx

from loopterm.suite import CheckFailed, awaiting

BODY_CHARS = 200
TOLERANCE = Decimal("0.005")
STATUSES = ("PENDING_APPROVAL", "AUTO_APPROVED", "APPROVED", "REJECTED")
REASONS = ("TOTAL_OVER_LIMIT", "LINE_DISCOUNT_OVER_LIMIT", "ORDER_DISCOUNT_OVER_LIMIT")
CENT = Decimal("0.01")
# RFC 3339 date-time in UTC: a "T" (or "t") separator and a Z or +00:00 offset.
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|\+00:00)$")
NO_BODY = object()  # "no value": a request sent without a body (a check may pass it through), a reply not parsed yet


def clip(text: str, limit: int = BODY_CHARS) -> str:
    """One line, at most ``limit`` characters plus a note of what was cut."""
    text = text.replace("\r", "").replace("\n", "\\n")
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…(+{len(text) - limit} chars)"


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def show(value: Any) -> str:
    """A value from a response as the model would write it in JSON, clipped."""
    return clip(compact(value), 120)


@dataclass
class Reply:
    """One request and its answer, able to explain itself in a failure message."""

    method: str
    path: str
    sent: str  # the body as sent (clipped later), "" when none
    status: int
    headers: httpx.Headers
    text: str
    _data: Any = field(default=NO_BODY, repr=False)

    @property
    def request(self) -> str:
        line = f"{self.method} {self.path}"
        return f"{line} {clip(self.sent)}" if self.sent else line

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def answer(self) -> str:
        """Status, content type and clipped body: what came back, compactly."""
        kind = self.headers.get("content-type") or "no Content-Type"
        body = clip(self.text) if self.text else "(empty body)"
        return f"{self.status} {kind} {body}"

    def message(self, expected: str, got: str | None = None, *, after: str = "") -> str:
        prefix = f"{after}, sent" if after else "sent"
        got = got if got is not None else self.answer()
        return f"{prefix} {self.request}; expected {expected}; got {got}"

    def fail(self, expected: str, got: str | None = None, *, after: str = "") -> CheckFailed:
        return CheckFailed(self.message(expected, got, after=after))

    def json(self) -> Any:
        if self._data is NO_BODY:
            try:
                self._data = json.loads(self.text)
            except (ValueError, RecursionError):
                raise self.fail("a JSON body") from None
        return self._data

    def obj(self) -> dict[str, Any]:
        data = self.json()
        if not isinstance(data, dict):
            raise self.fail("a JSON object body")
        return data

    def ensure_2xx(self, what: str, *, after: str = "") -> None:
        """Any 2xx will do: the exact code is a shape check's business."""
        if not 200 <= self.status < 300:
            raise self.fail(f"a 2xx answer with {what}", after=after)

    def require_2xx(self, what: str, *, after: str = "") -> dict[str, Any]:
        """The JSON object of a success answer."""
        self.ensure_2xx(what, after=after)
        return self.obj()

    def require_status(self, status: int, why: str = "", *, after: str = "") -> None:
        if self.status != status:
            raise self.fail(f"{status}{' ' + why if why else ''}", after=after)


async def call(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    body: Any = NO_BODY,
    *,
    raw: bytes | None = None,
    content_type: str | None = None,
    params: dict[str, str] | None = None,
) -> Reply:
    """Send one request; JSON ``body`` by default, or ``raw`` bytes as given."""
    headers: dict[str, str] = {}
    content: bytes | None = None
    sent = ""
    if body is not NO_BODY:
        sent = compact(body)
        content = sent.encode()
        headers["content-type"] = "application/json"
    if raw is not None:
        content = raw
        sent = raw.decode(errors="replace") or "(empty body)"
    if content_type is not None:
        headers["content-type"] = content_type
        sent = f"(Content-Type: {content_type}) {sent}"
    shown_path = path + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")
    request = f"{method} {shown_path} {clip(sent)}" if sent else f"{method} {shown_path}"
    try:
        with awaiting(request):  # a check that times out names the request it waited on
            response = await client.request(method, path, content=content, headers=headers,
                                            params=params)
    except Exception as exc:  # the transport runs the candidate's code, so this is its failure
        raise CheckFailed(
            f"sent {request}; expected an HTTP answer; got no answer: "
            f"{type(exc).__name__}: {clip(str(exc), 120)}"
        ) from None
    return Reply(method, shown_path, sent, response.status_code, response.headers, response.text)


def customer(tag: str) -> str:
    """A customer id no other check (or run) uses, so a check can find its own quotes."""
    return f"{tag}-{uuid.uuid4().hex[:10]}"


def line(sku: str = "SKU-1", quantity: Any = 1, unit_price: Any = 10.0, **extra: Any) -> dict[str, Any]:
    return {"sku": sku, "quantity": quantity, "unit_price": unit_price, **extra}


def quote_body(*lines: dict[str, Any], tag: str = "c", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"customer_id": customer(tag), "currency": "USD"}
    body["lines"] = list(lines) or [line()]
    body.update(extra)
    return body


PENDING_BODY = (line(unit_price=1500.0),)  # total 1500.00: needs approval
AUTO_BODY = (line(unit_price=10.0),)  # total 10.00: approved on creation


async def create(client: httpx.AsyncClient, body: dict[str, Any]) -> tuple[Reply, dict[str, Any]]:
    """POST /quotes and return the created quote; fails unless it has a string id."""
    reply = await call(client, "POST", "/quotes", body)
    quote = reply.require_2xx("the created Quote")
    if not isinstance(quote.get("id"), str) or not quote["id"]:
        raise reply.fail("the created Quote with a non-empty string `id`")
    return reply, quote


async def create_pending(client: httpx.AsyncClient, tag: str) -> dict[str, Any]:
    reply, quote = await create(client, quote_body(*PENDING_BODY, tag=tag))
    if quote.get("status") != "PENDING_APPROVAL":
        raise reply.fail(
            'status "PENDING_APPROVAL" (total 1500.00 is over 1000.00)',
            f"status {show(quote.get('status'))}",
        )
    return quote


async def create_auto(client: httpx.AsyncClient, tag: str) -> dict[str, Any]:
    return (await create(client, quote_body(*AUTO_BODY, tag=tag)))[1]


def get_path(reply: Reply, data: Any, path: str) -> Any:
    """``data`` at a dotted path like ``lines.0.line_total``; fails if absent."""
    value = data
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise reply.fail(f"a field `{path}` in the body")
    return value


def amount(reply: Reply, data: Any, path: str) -> Decimal:
    """A money field as Decimal. Lenient on purpose: numeric strings are read too,
    so a wrong JSON type fails shape.quote_fields alone, not every logic check."""
    value = get_path(reply, data, path)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise reply.fail(f"`{path}` to be a JSON number", f"{show(value)}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise reply.fail(f"`{path}` to be a JSON number", f"{show(value)}") from None
    if not number.is_finite():
        raise reply.fail(f"`{path}` to be a finite number", f"{show(value)}")
    return number


def round2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def dec(value: Any) -> Decimal:
    return Decimal(str(value))


@dataclass
class Expected:
    """What the contract says a CreateQuote body must produce."""

    line_totals: list[Decimal]
    subtotal: Decimal
    order_discount_amount: Decimal
    total: Decimal
    reasons: list[str]

    @property
    def status(self) -> str:
        return "PENDING_APPROVAL" if self.reasons else "AUTO_APPROVED"


def expected_quote(body: dict[str, Any]) -> Expected:
    line_totals = [
        round2(
            dec(ln["quantity"]) * dec(ln["unit_price"])
            * (1 - dec(ln.get("discount_percent", 0)) / 100)
        )
        for ln in body["lines"]
    ]
    subtotal = round2(sum(line_totals, Decimal(0)))
    order_percent = dec(body.get("order_discount_percent", 0))
    order_discount_amount = round2(subtotal * order_percent / 100)
    total = round2(subtotal - order_discount_amount)
    reasons = []
    if total > 1000:
        reasons.append("TOTAL_OVER_LIMIT")
    if any(dec(ln.get("discount_percent", 0)) > 10 for ln in body["lines"]):
        reasons.append("LINE_DISCOUNT_OVER_LIMIT")
    if order_percent > 10:
        reasons.append("ORDER_DISCOUNT_OVER_LIMIT")
    return Expected(line_totals, subtotal, order_discount_amount, total, reasons)


def expect_amount(reply: Reply, data: Any, path: str, want: Decimal, how: str) -> None:
    got = amount(reply, data, path)
    if abs(got - want) > TOLERANCE:
        raise reply.fail(f"`{path}` = {want} ({how})", f"{show(get_path(reply, data, path))}")


def expect_decision(reply: Reply, quote: dict[str, Any], body: dict[str, Any], why: str) -> None:
    """Status and approval_reasons as the contract computes them for ``body``."""
    want = expected_quote(body)
    status, reasons = quote.get("status"), quote.get("approval_reasons")
    if status != want.status or reasons != want.reasons:
        raise reply.fail(
            f"status {show(want.status)} and approval_reasons {show(want.reasons)} ({why})",
            f"status {show(status)} and approval_reasons {show(reasons)}",
        )


def items_of(reply: Reply) -> list[Any]:
    """The quotes of a list answer. Lenient: a bare array is read too (shape pins the envelope)."""
    data = reply.json()
    items = data.get("items") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise reply.fail('a body {"items": [Quote, ...]}')
    return items


def is_timestamp(value: Any) -> bool:
    if not isinstance(value, str) or not RFC3339_UTC.match(value):
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


PROBLEM = ("Content-Type application/problem+json and a body with string `type`, `title`, "
           "`detail` and integer `status` equal to the HTTP status")


def problem_issues(reply: Reply) -> list[str]:
    """What keeps an error answer from being the contract's problem body, as facts."""
    if not 400 <= reply.status < 500:
        return [f"status {reply.status} is not an error"]
    issues = []
    if reply.media_type != "application/problem+json":
        kind = reply.headers.get("content-type") or "missing"
        issues.append(f"Content-Type is {kind}, not application/problem+json")
    try:
        data = json.loads(reply.text)
    except (ValueError, RecursionError):
        return [*issues, "the body is not JSON"]
    if not isinstance(data, dict):
        return [*issues, "the body is not a JSON object"]
    for name in ("type", "title", "detail"):
        if not isinstance(data.get(name), str):
            issues.append(f"`{name}` is {_member(data, name)}, not a string")
    status = data.get("status")
    if type(status) is not int or status != reply.status:
        issues.append(f"`status` is {_member(data, 'status')}, not the integer {reply.status}")
    return issues


def expect_problem(reply: Reply, issues: list[str] | None = None, want: str = PROBLEM) -> None:
    issues = problem_issues(reply) + (issues or [])
    if issues:
        raise reply.fail(want, f"{'; '.join(issues)}, in {reply.answer()}")


def _member(data: dict[str, Any], name: str) -> str:
    return show(data[name]) if name in data else "missing"


@dataclass
class Case:
    """One request of a check that sends several, named for the failure message."""

    label: str
    method: str
    path: str
    body: Any = NO_BODY
    raw: bytes | None = None
    content_type: str | None = None


async def expect_statuses(
    client: httpx.AsyncClient, cases: list[Case], status: int | None, why: str
) -> list[Reply]:
    """Send every case; fail naming each case whose answer is not ``status``.

    ``status=None`` means any 2xx. The first failing case is shown in full, the
    others by label and status, so one message covers the whole check.
    """
    replies = [
        await call(client, c.method, c.path, c.body, raw=c.raw, content_type=c.content_type)
        for c in cases
    ]

    def ok(reply: Reply) -> bool:
        return 200 <= reply.status < 300 if status is None else reply.status == status

    failing = [(c, r) for c, r in zip(cases, replies, strict=True) if not ok(r)]
    if failing:
        raise CheckFailed(cases_message(failing, "a 2xx answer" if status is None else str(status), why))
    return replies


def cases_message(failing: list[tuple[Case, Reply]], want: str, why: str) -> str:
    """The first failing case in full, the others by label and status."""
    case, first = failing[0]
    message = f"{case.label}: {first.message(f'{want} ({why})')}"
    if len(failing) > 1:
        rest = ", ".join(f"{c.label} -> {r.status}" for c, r in failing[1:])
        message += f"; also wrong: {rest}"
    return message
