"""The quote-approval suite: 47 checks of a candidate against the v1 contract.

Groups: ``logic`` (what the numbers and decisions are), ``shape`` (how the
answers look) and ``robustness`` (what bad or unusual requests get). Each
check looks at one thing and is lenient about the rest (any 2xx where the
exact code is another check's subject), so one mistake fails few checks and
the feedback points at it. Checks run concurrently on one shared instance:
each creates its own quotes and finds them by id or by its own customer id.
"""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

from loopterm.suite import CheckContext, CheckFailed, Suite

from .helpers import (
    AUTO_BODY,
    NO_BODY,
    PENDING_BODY,
    PROBLEM,
    REASONS,
    STATUSES,
    Case,
    Reply,
    call,
    cases_message,
    create,
    create_auto,
    create_pending,
    customer,
    expect_amount,
    expect_decision,
    expect_problem,
    expect_statuses,
    expected_quote,
    get_path,
    is_timestamp,
    items_of,
    line,
    quote_body,
    show,
)

SUITE = Suite("quote-approval")
check = SUITE.check

D = Decimal


def unknown_id() -> str:
    return f"no-such-quote-{uuid.uuid4().hex[:8]}"


# --------------------------------------------------------------------- logic


@check("logic.line_total", "logic",
       "line_total = quantity × unit_price × (1 − discount_percent/100), rounded half-up")
async def line_total(ctx: CheckContext) -> None:
    body = quote_body(line("A", 3, 19.99), line("B", 7, 13.37, discount_percent=12.5), tag="lt")
    reply, quote = await create(ctx.client, body)
    expect_amount(reply, quote, "lines.0.line_total", D("59.97"), "3 × 19.99, no discount")
    expect_amount(reply, quote, "lines.1.line_total", D("81.89"),
                  "7 × 13.37 × (1 − 12.5/100) = 81.89125, rounded half-up")


@check("logic.subtotal_sums_lines", "logic",
       "subtotal is the sum of the line totals; no order discount means total = subtotal")
async def subtotal_sums_lines(ctx: CheckContext) -> None:
    body = quote_body(line("A", 2, 10.10), line("B", 1, 5.55),
                      line("C", 4, 2.50, discount_percent=5), tag="sub")
    reply, quote = await create(ctx.client, body)
    expect_amount(reply, quote, "subtotal", D("35.25"), "20.20 + 5.55 + 9.50")
    expect_amount(reply, quote, "order_discount_amount", D("0"),
                  "order_discount_percent defaults to 0")
    expect_amount(reply, quote, "total", D("35.25"), "subtotal − 0")


@check("logic.order_discount_and_total", "logic",
       "order_discount_amount = subtotal × order_discount_percent/100; total = subtotal − it")
async def order_discount_and_total(ctx: CheckContext) -> None:
    body = quote_body(line("A", 1, 123.45), order_discount_percent=7.5, tag="od")
    reply, quote = await create(ctx.client, body)
    expect_amount(reply, quote, "order_discount_amount", D("9.26"),
                  "123.45 × 7.5/100 = 9.25875, rounded")
    expect_amount(reply, quote, "total", D("114.19"), "123.45 − 9.26")


@check("logic.rounding_half_up", "logic",
       "an amount exactly half a cent away rounds up (0.125 -> 0.13), not to even")
async def rounding_half_up(ctx: CheckContext) -> None:
    body = quote_body(line("A", 1, 0.125), line("B", 1, 9.97), order_discount_percent=5,
                      tag="half")
    reply, quote = await create(ctx.client, body)
    expect_amount(reply, quote, "lines.0.line_total", D("0.13"),
                  "0.125 rounded half-up; half-even rounding gives 0.12")
    expect_amount(reply, quote, "order_discount_amount", D("0.51"),
                  "subtotal 10.10 × 5/100 = 0.505, rounded half-up; half-even gives 0.50")
    expect_amount(reply, quote, "total", D("9.59"), "10.10 − 0.51")


@check("logic.rounding_decimal_not_float", "logic",
       "rounding uses decimal arithmetic (2.675 -> 2.68), not float round()")
async def rounding_decimal_not_float(ctx: CheckContext) -> None:
    body = quote_body(line("A", 1, 2.675), line("B", 1, 0.015), tag="dec")
    reply, quote = await create(ctx.client, body)
    why = ("{} rounded half-up with decimal.Decimal; float round() gives {} because the "
           "binary float is just below the half")
    expect_amount(reply, quote, "lines.0.line_total", D("2.68"), why.format("2.675", "2.67"))
    expect_amount(reply, quote, "lines.1.line_total", D("0.02"), why.format("0.015", "0.01"))


async def expect_rule(ctx: CheckContext, body: dict[str, Any], why: str) -> None:
    reply, quote = await create(ctx.client, body)
    expect_decision(reply, quote, body, why)


@check("logic.total_limit_below", "logic",
       "a total just below 1000.00 (also after an order discount) needs no approval")
async def total_limit_below(ctx: CheckContext) -> None:
    await expect_rule(ctx, quote_body(line("A", 1, 999.99), tag="tot"),
                      "total 999.99 is not over 1000.00")
    await expect_rule(ctx, quote_body(line("A", 1, 1050.00), order_discount_percent=5, tag="tot"),
                      "the rule looks at the total after the order discount: 1050.00 − 5% = 997.50")


@check("logic.total_limit_at", "logic",
       "a total of exactly 1000.00 needs no approval (the limit is exclusive)")
async def total_limit_at(ctx: CheckContext) -> None:
    await expect_rule(ctx, quote_body(line("A", 4, 250.00), tag="tot"),
                      "TOTAL_OVER_LIMIT needs total > 1000.00; 1000.00 itself does not")


@check("logic.total_limit_above", "logic",
       "a total of 1000.01 gives TOTAL_OVER_LIMIT and PENDING_APPROVAL")
async def total_limit_above(ctx: CheckContext) -> None:
    await expect_rule(ctx, quote_body(line("A", 1, 1000.01), tag="tot"),
                      "total 1000.01 is over 1000.00")


@check("logic.line_discount_below", "logic", "a line discount of 9.99% needs no approval")
async def line_discount_below(ctx: CheckContext) -> None:
    await expect_rule(ctx, quote_body(line("A", 1, 100, discount_percent=9.99), tag="ld"),
                      "a line discount of 9.99 is not over 10")


@check("logic.line_discount_at", "logic",
       "a line discount of exactly 10% needs no approval (the limit is exclusive)")
async def line_discount_at(ctx: CheckContext) -> None:
    await expect_rule(ctx, quote_body(line("A", 1, 100, discount_percent=10), tag="ld"),
                      "LINE_DISCOUNT_OVER_LIMIT needs discount_percent > 10; 10 itself does not")


@check("logic.line_discount_above", "logic",
       "any one line discounted 10.01% gives LINE_DISCOUNT_OVER_LIMIT")
async def line_discount_above(ctx: CheckContext) -> None:
    body = quote_body(line("A", 1, 100), line("B", 1, 100, discount_percent=10.01), tag="ld")
    await expect_rule(ctx, body, "lines.1 has discount_percent 10.01, over 10")


@check("logic.order_discount_below", "logic", "an order discount of 9.99% needs no approval")
async def order_discount_below(ctx: CheckContext) -> None:
    await expect_rule(ctx, quote_body(line("A", 1, 100), order_discount_percent=9.99, tag="odr"),
                      "order_discount_percent 9.99 is not over 10")


@check("logic.order_discount_at", "logic",
       "an order discount of exactly 10% needs no approval (the limit is exclusive)")
async def order_discount_at(ctx: CheckContext) -> None:
    await expect_rule(ctx, quote_body(line("A", 1, 100), order_discount_percent=10, tag="odr"),
                      "ORDER_DISCOUNT_OVER_LIMIT needs order_discount_percent > 10; 10 does not")


@check("logic.order_discount_above", "logic",
       "an order discount of 10.01% gives ORDER_DISCOUNT_OVER_LIMIT")
async def order_discount_above(ctx: CheckContext) -> None:
    await expect_rule(ctx, quote_body(line("A", 1, 100), order_discount_percent=10.01, tag="odr"),
                      "order_discount_percent 10.01 is over 10")


@check("logic.reasons_in_order", "logic",
       "when all three rules hold, approval_reasons lists them in the contract's order")
async def reasons_in_order(ctx: CheckContext) -> None:
    body = quote_body(line("A", 1, 2000, discount_percent=20), order_discount_percent=15,
                      tag="all")
    await expect_rule(ctx, body, "total 1360.00, a line at 20% and an order at 15% break all "
                      "three rules; the order is TOTAL, LINE, ORDER")


def decision_mismatch(data: dict[str, Any], outcome: str, approver: str, note: str) -> str:
    decision = data.get("decision")
    if not isinstance(decision, dict):
        return f"status {show(data.get('status'))} and decision {show(decision)}"
    want = {"outcome": outcome, "approver": approver, "note": note}
    if data.get("status") == outcome and all(decision.get(k) == v for k, v in want.items()):
        return ""
    got = {k: decision.get(k) for k in want}
    return f"status {show(data.get('status'))} and decision {show(got)}"


async def expect_decided(ctx: CheckContext, verb: str, payload: dict[str, str], note_key: str,
                         outcome: str) -> None:
    quote = await create_pending(ctx.client, verb)
    reply = await call(ctx.client, "POST", f"/quotes/{quote['id']}/{verb}", payload)
    data = reply.require_2xx(f"the {outcome.lower()} Quote")
    approver, note = payload["approver"], payload[note_key]
    want = (f'status "{outcome}" and decision {{"outcome":"{outcome}","approver":"{approver}",'
            f'"note":"{note}"}} (note is the {note_key})')
    got = decision_mismatch(data, outcome, approver, note)
    if got:
        raise reply.fail(want, got)
    after = f"after a successful {verb} of quote {quote['id']}"
    reply = await call(ctx.client, "GET", f"/quotes/{quote['id']}")
    got = decision_mismatch(reply.require_2xx("the Quote", after=after), outcome, approver, note)
    if got:
        raise reply.fail(want + ": the decision must be stored", got, after=after)


@check("logic.approve_sets_approved", "logic",
       "approve makes a pending quote APPROVED with its decision, and GET shows it")
async def approve_sets_approved(ctx: CheckContext) -> None:
    await expect_decided(ctx, "approve", {"approver": "alice", "comment": "within budget"},
                         "comment", "APPROVED")


@check("logic.reject_sets_rejected", "logic",
       "reject makes a pending quote REJECTED with the reason as note, and GET shows it")
async def reject_sets_rejected(ctx: CheckContext) -> None:
    await expect_decided(ctx, "reject", {"approver": "bob", "reason": "price too low"},
                         "reason", "REJECTED")


@check("logic.get_returns_stored_quote", "logic",
       "GET /quotes/{id} returns the quote exactly as created, each under its own id")
async def get_returns_stored_quote(ctx: CheckContext) -> None:
    # Every optional field set, so a GET that loses or resets one shows it.
    auto = quote_body(line("A", 2, 4.5, description="spare part", discount_percent=5),
                      order_discount_percent=2.5, tag="get")
    created = [await create(ctx.client, auto),
               await create(ctx.client, quote_body(*PENDING_BODY, tag="get"))]
    (first_reply, first), (_, second) = created
    if first["id"] == second["id"]:
        raise first_reply.fail("a new id for each quote",
                               f"id {show(first['id'])} for two different quotes")
    for _, quote in created:
        reply = await call(ctx.client, "GET", f"/quotes/{quote['id']}")
        data = reply.require_2xx("the stored Quote")
        # Nothing happened to the quote since it was created, so every field is as created.
        wrong = [f"`{name}` {show(data[name]) if name in data else 'missing'} "
                 f"(created as {show(value)})"
                 for name, value in quote.items() if name not in data or data[name] != value]
        if wrong:
            raise reply.fail("the Quote exactly as the creation answer gave it (it has not "
                             "changed since)", "; ".join(wrong))


def own_ids(reply: Reply, customer_id: str) -> list[Any]:
    return [q.get("id") for q in items_of(reply)
            if isinstance(q, dict) and q.get("customer_id") == customer_id]


@check("logic.list_in_creation_order", "logic", "GET /quotes lists quotes in creation order")
async def list_in_creation_order(ctx: CheckContext) -> None:
    cid = customer("order")
    ids = []
    for price in (30.0, 10.0, 20.0):
        body = {"customer_id": cid, "currency": "EUR", "lines": [line(unit_price=price)]}
        ids.append((await create(ctx.client, body))[1]["id"])
    reply = await call(ctx.client, "GET", "/quotes")
    reply.ensure_2xx("the list of quotes")
    got = own_ids(reply, cid)
    if got != ids:
        raise reply.fail(f"the 3 quotes of customer {cid} in creation order {show(ids)}",
                         f"{show(got)} (the ids of that customer's quotes, in list order)")


def status_fits(got: Any, wanted: str) -> bool:
    """Whether a listed quote's status fits the filter it was listed under.

    Other checks decide their quotes while this one lists, and a candidate may
    serialise its list after such a decision (a sync handler runs in a thread; an
    async one may await): a pending quote can turn APPROVED or REJECTED on the way
    out. That is not a filter bug; the check's own quotes, whose statuses hold
    still, show whether the filter works.
    """
    return got == wanted or (wanted == "PENDING_APPROVAL" and got in ("APPROVED", "REJECTED"))


@check("logic.list_filtered_by_status", "logic",
       "GET /quotes?status=S returns exactly the quotes whose status is S")
async def list_filtered_by_status(ctx: CheckContext) -> None:
    pending = await create_pending(ctx.client, "filter")
    auto = await create_auto(ctx.client, "filter")
    decided = await create_pending(ctx.client, "filter")
    mine = {q["id"]: q.get("status") for q in (pending, auto)}  # as the creation answers said
    # A decided quote is listed under its new status, not the one it was created with.
    approve = await call(ctx.client, "POST", f"/quotes/{decided['id']}/approve", {"approver": "a"})
    if 200 <= approve.status < 300:  # a broken approve is another check's failure, not this one's
        mine[decided["id"]] = approve.obj().get("status")
    for status in ("PENDING_APPROVAL", "AUTO_APPROVED", "APPROVED"):
        reply = await call(ctx.client, "GET", "/quotes", params={"status": status})
        reply.ensure_2xx("the filtered list")
        items = items_of(reply)
        wrong = [q.get("status") if isinstance(q, dict) else q for q in items
                 if not isinstance(q, dict) or not status_fits(q.get("status"), status)]
        if wrong:
            raise reply.fail(f"only quotes with status {status}",
                             f"{len(wrong)} of {len(items)} items with another status, "
                             f"e.g. {show(wrong[0])}")
        ids = [q.get("id") for q in items]  # a list: a candidate's ids need not be hashable
        for qid, qstatus in mine.items():
            listed = qid in ids
            if listed != (qstatus == status):
                expected = (f"quote {qid} (created as {show(qstatus)}) "
                            f"{'listed' if not listed else 'left out'}")
                raise reply.fail(expected, f"it is {'listed' if listed else 'missing'}")


@check("logic.list_bad_status_422", "logic",
       "GET /quotes?status=X with X outside the status enum answers 422")
async def list_bad_status_422(ctx: CheckContext) -> None:
    cases = [Case(f"status={s}", "GET", f"/quotes?status={s}") for s in ("BOGUS", "pending_approval")]
    await expect_statuses(ctx.client, cases, 422,
                          "status must be exactly one of " + ", ".join(STATUSES))


# --------------------------------------------------------------------- shape

JSON = "application/json"
OUTCOMES = ("APPROVED", "REJECTED")


@check("shape.create_201_json", "shape",
       "POST /quotes answers 201 with Content-Type application/json")
async def create_201_json(ctx: CheckContext) -> None:
    reply = await call(ctx.client, "POST", "/quotes", quote_body(tag="c201"))
    if reply.status != 201 or reply.media_type != JSON:
        raise reply.fail("201 with Content-Type application/json (FastAPI answers 200 unless "
                         "the route or response sets status_code=201)")
    if not isinstance(reply.obj().get("id"), str):
        raise reply.fail("the created Quote, an object with a string `id`")


@check("shape.location_header", "shape",
       "POST /quotes sets Location: /quotes/{id}, and that URL serves the quote")
async def location_header(ctx: CheckContext) -> None:
    reply, quote = await create(ctx.client, quote_body(tag="loc"))
    want = f"/quotes/{quote['id']}"
    location = reply.headers.get("location")
    # The contract's form is the path; the same URL made absolute on the host the request
    # went to (what request.url_for gives) is equivalent. Any other host is not.
    absolute = f"{str(ctx.client.base_url).rstrip('/')}{want}"
    if location not in (want, absolute):
        raise reply.fail(f"a header Location: {want} (the path, or {absolute} on this host)",
                         f"Location: {location}" if location is not None else "no Location header")
    follow = await call(ctx.client, "GET", want)
    data = follow.require_2xx("the created Quote", after="following Location")
    if data.get("id") != quote["id"]:
        raise follow.fail(f"the quote with id {quote['id']}", f"id {show(data.get('id'))}",
                          after="following Location")


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


QUOTE_TYPES: dict[str, tuple[str, Any]] = {
    "id": ("a non-empty string", lambda v: isinstance(v, str) and v != ""),
    "customer_id": ("a string", lambda v: isinstance(v, str)),
    "currency": ("a string", lambda v: isinstance(v, str)),
    "lines": ("an array", lambda v: isinstance(v, list)),
    "order_discount_percent": ("a number", is_number),
    "subtotal": ("a number", is_number),
    "order_discount_amount": ("a number", is_number),
    "total": ("a number", is_number),
    "status": ("a string", lambda v: isinstance(v, str)),
    "approval_reasons": ("an array of strings",
                         lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v)),
    "decision": ("null (no decision yet)", lambda v: v is None),
    "created_at": ("a string", lambda v: isinstance(v, str)),
}


def type_problems(quote: dict[str, Any], *, decided: bool = False) -> list[str]:
    """Each contract field of a Quote that is missing or of the wrong JSON type."""
    problems = []
    for name, (kind, ok) in QUOTE_TYPES.items():
        if decided and name == "decision":
            kind, ok = "an object", lambda v: isinstance(v, dict)
        if name not in quote:
            problems.append(f"`{name}` missing")
        elif not ok(quote[name]):
            problems.append(f"`{name}` is {show(quote[name])}, not {kind}")
    return problems


def same_value(got: Any, sent: Any) -> bool:
    if is_number(sent):
        return is_number(got) and got == sent
    return type(got) is type(sent) and got == sent


@check("shape.quote_fields", "shape",
       "a Quote has every contract field with its JSON type and the values as created")
async def quote_fields(ctx: CheckContext) -> None:
    body = quote_body(line("A", 2, 12.5, description="blue widget", discount_percent=5),
                      tag="fields", currency="GBP", order_discount_percent=2.5)
    reply, quote = await create(ctx.client, body)
    problems = type_problems(quote)
    if problems:
        fields = ", ".join(QUOTE_TYPES)
        raise reply.fail(f"a Quote with {fields} (amounts as JSON numbers)", "; ".join(problems))
    sent_line = body["lines"][0]
    echoed = [(name, body[name], quote[name])
              for name in ("customer_id", "currency", "order_discount_percent")]
    got_line = quote["lines"][0] if quote["lines"] else None
    if not isinstance(got_line, dict):
        raise reply.fail("`lines.0` as sent", f"`lines.0` {show(got_line)}")
    echoed += [(f"lines.0.{name}", value, got_line.get(name)) for name, value in sent_line.items()]
    wrong = [f"`{name}` {show(got)} (sent {show(sent)})"
             for name, sent, got in echoed if not same_value(got, sent)]
    if wrong:
        raise reply.fail("customer_id, currency, order_discount_percent and each line's fields "
                         "as created", "; ".join(wrong))


@check("shape.line_fields_and_defaults", "shape",
       'lines come back with defaults filled (description "", discount_percent 0) and line_total')
async def line_fields_and_defaults(ctx: CheckContext) -> None:
    body = quote_body({"sku": "A-1", "quantity": 2, "unit_price": 5.25}, tag="defaults")
    reply, quote = await create(ctx.client, body)
    got = get_path(reply, quote, "lines.0")
    want: dict[str, tuple[str, Any]] = {
        "sku": ('"A-1"', lambda v: v == "A-1"),
        "description": ('"" (the default)', lambda v: v == ""),
        "quantity": ("the integer 2", lambda v: v == 2 and type(v) is int),
        "unit_price": ("the number 5.25", lambda v: is_number(v) and v == 5.25),
        "discount_percent": ("the number 0 (the default)", lambda v: is_number(v) and v == 0),
        "line_total": ("the number 10.5", lambda v: is_number(v) and abs(v - 10.5) < 0.005),
    }
    if not isinstance(got, dict):
        raise reply.fail("lines.0 to be an object", show(got))
    problems = [f"`lines.0.{k}` {'missing' if k not in got else 'is ' + show(got[k])}, not {kind}"
                for k, (kind, ok) in want.items() if k not in got or not ok(got[k])]
    order = quote.get("order_discount_percent")
    if not (is_number(order) and order == 0):
        problems.append(f"`order_discount_percent` is {show(order)}, not the number 0 (default)")
    if problems:
        raise reply.fail("the line as sent with defaults filled and line_total",
                         "; ".join(problems))


@check("shape.created_at_rfc3339_utc", "shape",
       "created_at is an RFC 3339 UTC timestamp like 2026-06-03T04:05:06Z")
async def created_at_rfc3339_utc(ctx: CheckContext) -> None:
    reply, quote = await create(ctx.client, quote_body(tag="ts"))
    value = get_path(reply, quote, "created_at")
    if not is_timestamp(value):
        raise reply.fail("created_at like 2026-06-03T04:05:06Z (UTC, with a Z or +00:00 offset)",
                         f"created_at {show(value)}")


@check("shape.decision_object", "shape",
       "a decision has outcome, approver, note (null without a comment) and an RFC 3339 decided_at")
async def decision_object(ctx: CheckContext) -> None:
    quote = await create_pending(ctx.client, "decision")
    reply = await call(ctx.client, "POST", f"/quotes/{quote['id']}/approve", {"approver": "bob"})
    decision = get_path(reply, reply.require_2xx("the approved Quote"), "decision")
    want = ('decision {"outcome":"APPROVED","approver":"bob","note":null,'
            '"decided_at":"<RFC 3339 UTC, e.g. 2026-06-03T04:05:06Z>"}')
    if not isinstance(decision, dict):
        raise reply.fail(want, f"decision {show(decision)}")
    checks: dict[str, Any] = {
        "outcome": lambda v: v == "APPROVED",
        "approver": lambda v: v == "bob",
        "note": lambda v: v is None,
        "decided_at": is_timestamp,
    }
    problems = [f"`{k}` is {show(decision[k])}" if k in decision else f"`{k}` missing"
                for k, ok in checks.items() if k not in decision or not ok(decision[k])]
    if problems:
        raise reply.fail(want, "; ".join(problems))


@check("shape.success_json", "shape",
       'GET, list, approve and reject answer 200 JSON with whole Quotes; the list is {"items": [...]}')
async def success_json(ctx: CheckContext) -> None:
    first = await create_pending(ctx.client, "ok")
    second = await create_pending(ctx.client, "ok")
    replies = [
        await call(ctx.client, "GET", f"/quotes/{first['id']}"),
        await call(ctx.client, "POST", f"/quotes/{first['id']}/approve", {"approver": "a"}),
        await call(ctx.client, "POST", f"/quotes/{second['id']}/reject",
                   {"approver": "a", "reason": "no"}),
        await call(ctx.client, "GET", "/quotes"),
    ]
    for reply in replies:
        if reply.status != 200 or reply.media_type != JSON:
            raise reply.fail("200 with Content-Type application/json")
    listing = replies.pop()
    envelope = listing.json()
    if not isinstance(envelope, dict) or not isinstance(envelope.get("items"), list):
        raise listing.fail('an object {"items": [Quote, ...]}, not a bare array')
    whole = "a whole Quote (every field, as GET /quotes/{id} answers)"
    for reply, decided in zip(replies, (False, True, True), strict=True):
        problems = type_problems(reply.obj(), decided=decided)
        if problems:
            raise reply.fail(whole, "; ".join(problems))
    for index, item in enumerate(envelope["items"]):
        problems = type_problems(item, decided=item.get("decision") is not None) \
            if isinstance(item, dict) else [f"{show(item)}, not an object"]
        if problems:
            raise listing.fail(f"each item {whole}", f"items.{index}: {'; '.join(problems)}")


@check("shape.enum_spellings", "shape",
       "status, outcome and reason codes use the contract's exact spellings")
async def enum_spellings(ctx: CheckContext) -> None:
    body = quote_body(line("A", 1, 2000, discount_percent=20), order_discount_percent=15,
                      tag="enum")
    reply, quote = await create(ctx.client, body)
    reasons = quote.get("approval_reasons")
    odd = [r for r in reasons if r not in REASONS] if isinstance(reasons, list) else [reasons]
    if odd:
        raise reply.fail(f"reason codes spelled exactly {', '.join(REASONS)}",
                         f"approval_reasons {show(reasons)}")
    auto_reply, auto = await create(ctx.client, quote_body(*AUTO_BODY, tag="enum"))
    to_reject = await create_pending(ctx.client, "enum")
    approved = await call(ctx.client, "POST", f"/quotes/{quote['id']}/approve", {"approver": "a"})
    rejected = await call(ctx.client, "POST", f"/quotes/{to_reject['id']}/reject",
                          {"approver": "a", "reason": "no"})
    values = [(reply, "status", quote.get("status"), STATUSES),
              (auto_reply, "status", auto.get("status"), STATUSES)]
    for decided in (approved, rejected):
        data = decided.require_2xx("the decided Quote")
        decision = data.get("decision")
        outcome = decision.get("outcome") if isinstance(decision, dict) else decision
        values += [(decided, "status", data.get("status"), STATUSES),
                   (decided, "decision.outcome", outcome, OUTCOMES)]
    for where, name, value, allowed in values:
        if value not in allowed:
            raise where.fail(f"`{name}` spelled exactly as one of {', '.join(allowed)}",
                             f"`{name}` {show(value)}")


@check("shape.problem_not_found", "shape",
       "an unknown id (GET, approve, reject) or path answers problem+json: type, title, status, detail")
async def problem_not_found(ctx: CheckContext) -> None:
    qid = unknown_id()
    for method, path, body in (("GET", f"/quotes/{qid}", NO_BODY), ("GET", "/no-such-path", NO_BODY),
                               ("POST", f"/quotes/{qid}/approve", {"approver": "a"}),
                               ("POST", f"/quotes/{qid}/reject", {"approver": "a", "reason": "r"})):
        expect_problem(await call(ctx.client, method, path, body))


@check("shape.problem_422_errors", "shape",
       "a 422 problem carries errors: [{field, message}] with dotted paths like lines.0.quantity")
async def problem_422_errors(ctx: CheckContext) -> None:
    two_wrong = quote_body(line(quantity=0), tag="err")  # two failing fields in one body
    del two_wrong["customer_id"]
    pending = await create_pending(ctx.client, "err")
    requests: list[tuple[str, str, Any, dict[str, str] | None, list[str]]] = [
        ("POST", "/quotes", two_wrong, None, ["customer_id", "lines.0.quantity"]),
        ("GET", "/quotes", NO_BODY, {"status": "BOGUS"}, ["status"]),
        ("POST", f"/quotes/{pending['id']}/approve", {}, None, ["approver"]),
        ("POST", f"/quotes/{pending['id']}/reject", {"approver": "a"}, None, ["reason"]),
    ]
    for method, path, body, params, paths in requests:
        reply = await call(ctx.client, method, path, body, params=params)
        entries = ", ".join(f'{{"field":"{p}","message":"..."}}' for p in paths)
        want = (f"422, {PROBLEM}, and errors [{entries}] (one entry per failing field; "
                'the path inside the body, no leading "body")')
        if reply.status != 422:
            raise reply.fail(want)
        data = reply.json()
        errors = data.get("errors") if isinstance(data, dict) else None  # expect_problem says why
        issues = []
        if not isinstance(errors, list) or not all(
            isinstance(e, dict) and isinstance(e.get("field"), str)
            and isinstance(e.get("message"), str) for e in errors
        ):
            issues.append(f"`errors` is {show(errors)}, not an array of {{field, message}} strings")
        else:
            fields = [e["field"] for e in errors]
            issues += [f"no entry has field {p} (fields: {show(fields)})"
                       for p in paths if p not in fields]
        expect_problem(reply, issues, want)


@check("shape.problem_other_4xx", "shape",
       "400, 405, 409 and 415 answers are problem+json bodies whose status is the HTTP status")
async def problem_other_4xx(ctx: CheckContext) -> None:
    auto = await create_auto(ctx.client, "problem")
    replies = [
        await call(ctx.client, "POST", "/quotes", raw=b'{"customer_id": ',
                   content_type="application/json"),
        await call(ctx.client, "DELETE", "/quotes"),
        await call(ctx.client, "GET", f"/quotes/{auto['id']}/approve"),
        await call(ctx.client, "POST", f"/quotes/{auto['id']}/approve", {"approver": "a"}),
        await call(ctx.client, "POST", "/quotes", raw=b"hello", content_type="text/plain"),
    ]
    for reply in replies:
        expect_problem(reply)


# ---------------------------------------------------------------- robustness


@check("robustness.malformed_json_400", "robustness",
       "a body that is not valid JSON (NaN and Infinity included) answers 400, on create and approve")
async def malformed_json_400(ctx: CheckContext) -> None:
    quote = await create_pending(ctx.client, "badjson")
    why = ("the body is not valid JSON; FastAPI's own answer to this is 422, so parse the body "
           "yourself or handle the error")
    await expect_statuses(ctx.client, [
        Case("create", "POST", "/quotes", raw=b'{"customer_id": "c", "lines": [',
             content_type=JSON),
        Case("approve", "POST", f"/quotes/{quote['id']}/approve", raw=b"{approver: bob}",
             content_type=JSON),
        Case("create with an empty body", "POST", "/quotes", raw=b"", content_type=JSON),
        Case("unit_price NaN", "POST", "/quotes", content_type=JSON,
             raw=b'{"customer_id": "c", "currency": "USD", '
                 b'"lines": [{"sku": "A", "quantity": 1, "unit_price": NaN}]}'),
        Case("order_discount_percent Infinity", "POST", "/quotes", content_type=JSON,
             raw=b'{"customer_id": "c", "currency": "USD", "order_discount_percent": Infinity, '
                 b'"lines": [{"sku": "A", "quantity": 1, "unit_price": 1}]}'),
    ], 400, why + "; NaN and Infinity are not JSON (Python's json.loads accepts them unless "
            "parse_constant raises)")


@check("robustness.wrong_content_type_415", "robustness",
       "a Content-Type other than application/json (or none) answers 415; a charset is fine")
async def wrong_content_type_415(ctx: CheckContext) -> None:
    quote = await create_pending(ctx.client, "ctype")
    valid = json_bytes(quote_body(tag="ctype"))
    await expect_statuses(ctx.client, [
        Case("text/plain create", "POST", "/quotes", raw=valid, content_type="text/plain"),
        Case("create without Content-Type", "POST", "/quotes", raw=valid),
        Case("form reject", "POST", f"/quotes/{quote['id']}/reject",
             raw=b"approver=a&reason=b", content_type="application/x-www-form-urlencoded"),
    ], 415, "check the Content-Type header before reading the body")
    await expect_statuses(ctx.client, [
        Case("create with Content-Type: application/json; charset=utf-8", "POST", "/quotes",
             raw=json_bytes(quote_body(tag="ctype")), content_type="application/json; charset=utf-8"),
    ], None, "the media type is application/json; parameters such as charset are allowed")


def json_bytes(body: Any) -> bytes:
    import json

    return json.dumps(body).encode()


def quote_case(label: str, *lines: dict[str, Any], drop: str = "", **extra: Any) -> Case:
    body = quote_body(*lines, tag="bad", **extra)
    if drop:
        del body[drop]
    return Case(label, "POST", "/quotes", body)


@check("robustness.quantity_must_be_integer", "robustness",
       'quantity 1.5 or "2", or a price or percent sent as a string or bool, answers 422')
async def quantity_must_be_integer(ctx: CheckContext) -> None:
    await expect_statuses(ctx.client, [
        quote_case("quantity 1.5", line(quantity=1.5)),
        quote_case('quantity "2"', line(quantity="2")),
        quote_case("quantity true", line(quantity=True)),
    ], 422, 'quantity must be a JSON integer; pydantic turns "2" into 2 unless the field is '
            "StrictInt")
    await expect_statuses(ctx.client, [
        quote_case('unit_price "10.5"', line(unit_price="10.5")),
        quote_case("unit_price true", line(unit_price=True)),
        quote_case('discount_percent "5"', line(discount_percent="5")),
        quote_case('order_discount_percent "5"', order_discount_percent="5"),
    ], 422, 'unit_price and the percents are JSON numbers; pydantic\'s Decimal and float also '
            'take "10.5" unless the value is checked to be an int or float (not a bool)')


@check("robustness.out_of_range_422", "robustness",
       "quantity, unit_price and both discounts outside their bounds answer 422; bounds are valid")
async def out_of_range_422(ctx: CheckContext) -> None:
    await expect_statuses(ctx.client, [
        quote_case("quantity 0", line(quantity=0)),
        quote_case("quantity 10001", line(quantity=10001)),
        quote_case("unit_price -0.01", line(unit_price=-0.01)),
        quote_case("unit_price 1000000.01", line(unit_price=1000000.01)),
        quote_case("discount_percent 100.01", line(discount_percent=100.01)),
        quote_case("discount_percent -1", line(discount_percent=-1)),
        quote_case("order_discount_percent 100.5", order_discount_percent=100.5),
        quote_case("order_discount_percent -0.01", order_discount_percent=-0.01),
    ], 422, "quantity 1..10000, unit_price 0..1000000, percents 0..100, all inclusive")
    await expect_statuses(ctx.client, [
        quote_case("every upper bound at its limit",
                   line("A", 10000, 0), line("B", 1, 1000000, discount_percent=100),
                   order_discount_percent=100),
        quote_case("every lower bound at its limit", line("A", 1, 0, discount_percent=0),
                   order_discount_percent=0),
    ], None, "quantity 1 and 10000, unit_price 0 and 1000000 and percents 0 and 100 are all "
             "allowed")


@check("robustness.strings_and_currency_422", "robustness",
       "an unknown currency or a string too short or too long answers 422; limits are valid")
async def strings_and_currency_422(ctx: CheckContext) -> None:
    await expect_statuses(ctx.client, [
        quote_case("currency JPY", currency="JPY"),
        quote_case("currency usd", currency="usd"),
        quote_case('customer_id ""', customer_id=""),
        quote_case("customer_id of 65 chars", customer_id="c" * 65),
        quote_case('sku ""', line(sku="")),
        quote_case("sku of 33 chars", line(sku="S" * 33)),
        quote_case("description of 201 chars", line(description="d" * 201)),
    ], 422, "currency is one of AUD, USD, EUR, GBP; customer_id 1-64 chars, sku 1-32, "
            "description at most 200")
    await expect_statuses(ctx.client, [
        quote_case("currency AUD and strings at their limits",
                   line(sku="S" * 32, description="d" * 200),
                   customer_id=customer("limit").ljust(64, "x"), currency="AUD"),
    ], None, "AUD is one of the four currencies; customer_id of 64, sku of 32 and description "
             "of 200 chars are allowed")


@check("robustness.missing_fields_422", "robustness",
       "a body missing any required field (top level or in a line), or not an object, answers 422")
async def missing_fields_422(ctx: CheckContext) -> None:
    cases = [quote_case(f"no {name}", drop=name) for name in ("customer_id", "currency", "lines")]
    for name in ("sku", "quantity", "unit_price"):
        partial = line()
        del partial[name]
        cases.append(quote_case(f"no lines.0.{name}", partial))
    cases += [Case("body []", "POST", "/quotes", []), Case("body null", "POST", "/quotes", None)]
    await expect_statuses(ctx.client, cases, 422,
                          "customer_id, currency, lines, and each line's sku, quantity and "
                          "unit_price are required; a body that is not an object lacks them all")


@check("robustness.lines_count_422", "robustness", "0 lines or 101 lines answer 422")
async def lines_count_422(ctx: CheckContext) -> None:
    many = [line(f"S{i}") for i in range(101)]
    await expect_statuses(ctx.client, [
        Case("0 lines", "POST", "/quotes", {**quote_body(tag="bad"), "lines": []}),
        Case("101 lines", "POST", "/quotes", {**quote_body(tag="bad"), "lines": many}),
    ], 422, "lines holds 1 to 100 items")


@check("robustness.unknown_id_404", "robustness",
       "GET, approve and reject of an unknown quote id answer 404")
async def unknown_id_404(ctx: CheckContext) -> None:
    qid = unknown_id()
    await expect_statuses(ctx.client, [
        Case("get", "GET", f"/quotes/{qid}"),
        Case("approve", "POST", f"/quotes/{qid}/approve", {"approver": "a"}),
        Case("reject", "POST", f"/quotes/{qid}/reject", {"approver": "a", "reason": "r"}),
    ], 404, "no quote has this id")


@check("robustness.wrong_method_405", "robustness",
       "a known path with a method it does not serve answers 405")
async def wrong_method_405(ctx: CheckContext) -> None:
    qid = unknown_id()
    await expect_statuses(ctx.client, [
        Case("DELETE /quotes", "DELETE", "/quotes"),
        Case("PUT /quotes/{id}", "PUT", f"/quotes/{qid}", {"approver": "a"}),
        Case("GET /quotes/{id}/approve", "GET", f"/quotes/{qid}/approve"),
        Case("DELETE /quotes/{id}/reject", "DELETE", f"/quotes/{qid}/reject"),
    ], 405, "the path exists but not with this method")


@check("robustness.unknown_path_404", "robustness", "an unknown path answers 404")
async def unknown_path_404(ctx: CheckContext) -> None:
    quote = await create_pending(ctx.client, "path")
    await expect_statuses(ctx.client, [
        Case("GET /invoices", "GET", "/invoices"),
        Case("GET /quotes/ (trailing slash)", "GET", "/quotes/"),
        Case("POST /quotes/{id}/cancel", "POST", f"/quotes/{quote['id']}/cancel",
             {"approver": "a", "reason": "r"}),
    ], 404, "no such path; only approve and reject exist under /quotes/{id}/, and a trailing "
            "slash makes another path (FastAPI answers /quotes/ with a 307 redirect unless "
            "FastAPI(redirect_slashes=False))")


@check("robustness.second_decision_409", "robustness",
       "approving or rejecting a quote that is not PENDING_APPROVAL answers 409 and changes nothing")
async def second_decision_409(ctx: CheckContext) -> None:
    quote = await create_pending(ctx.client, "twice")
    path = f"/quotes/{quote['id']}"
    first = await call(ctx.client, "POST", f"{path}/approve", {"approver": "first"})
    first.require_2xx("the approved Quote")
    after = f"after approving quote {quote['id']}"
    for verb, payload in (("approve", {"approver": "second"}),
                          ("reject", {"approver": "second", "reason": "late"})):
        reply = await call(ctx.client, "POST", f"{path}/{verb}", payload)
        reply.require_status(409, "(only a PENDING_APPROVAL quote can be decided, once)",
                             after=after)
    reply = await call(ctx.client, "GET", path)
    data = reply.require_2xx("the Quote", after=after)
    decision = data.get("decision")
    approver = decision.get("approver") if isinstance(decision, dict) else None
    if data.get("status") != "APPROVED" or approver != "first":
        raise reply.fail('status "APPROVED" with the first decision (approver "first") kept',
                         f"status {show(data.get('status'))}, decision {show(decision)}",
                         after=after + " and refusing two later decisions")
    auto = await create_auto(ctx.client, "twice")
    for verb, payload in (("approve", {"approver": "a"}),
                          ("reject", {"approver": "a", "reason": "r"})):
        reply = await call(ctx.client, "POST", f"/quotes/{auto['id']}/{verb}", payload)
        reply.require_status(409, "(an AUTO_APPROVED quote cannot be approved or rejected)")
    rejected = await create_pending(ctx.client, "twice")
    reply = await call(ctx.client, "POST", f"/quotes/{rejected['id']}/reject",
                       {"approver": "first", "reason": "too expensive"})
    reply.require_2xx("the rejected Quote")
    reply = await call(ctx.client, "POST", f"/quotes/{rejected['id']}/approve", {"approver": "second"})
    reply.require_status(409, "(a REJECTED quote is decided: it cannot be approved later)",
                         after=f"after rejecting quote {rejected['id']}")


@check("robustness.concurrent_approvals_one_wins", "robustness",
       "of 8 concurrent approvals of one pending quote exactly one succeeds, the rest get 409")
async def concurrent_approvals_one_wins(ctx: CheckContext) -> None:
    quote = await create_pending(ctx.client, "race")
    path = f"/quotes/{quote['id']}/approve"
    replies = await asyncio.gather(*(
        call(ctx.client, "POST", path, {"approver": f"approver-{i}"}) for i in range(8)
    ))
    winners = [r for r in replies if 200 <= r.status < 300]
    if len(winners) != 1 or sum(r.status == 409 for r in replies) != len(replies) - 1:
        raise CheckFailed(
            f"sent 8 concurrent POST {path} {{\"approver\":\"approver-<i>\"}}; expected exactly "
            "one 200 and seven 409 (make check-and-set atomic: no await between checking "
            "PENDING_APPROVAL and setting the decision, or hold an asyncio.Lock around both); "
            f"got statuses {sorted(r.status for r in replies)}"
        )
    winner = winners[0].sent
    reply = await call(ctx.client, "GET", f"/quotes/{quote['id']}")
    decision = reply.require_2xx("the Quote").get("decision")
    approver = decision.get("approver") if isinstance(decision, dict) else None
    if not isinstance(approver, str) or f'"approver":"{approver}"' not in winner:
        raise reply.fail(f"the decision of the one successful approval ({winner})",
                         f"decision {show(decision)}", after="after 8 concurrent approvals")


def large_body() -> dict[str, Any]:
    lines = [
        line(f"SKU-{i:03d}", i % 9 + 1, float(Decimal(1) + Decimal(i) * Decimal("0.37")),
             discount_percent=i % 12, description=f"item {i} " * 20)
        for i in range(100)
    ]
    return quote_body(*lines, tag="large", order_discount_percent=2.5)


@check("robustness.large_body_100_lines", "robustness",
       "a valid quote of 100 lines with long descriptions is accepted and computed right")
async def large_body_100_lines(ctx: CheckContext) -> None:
    body = large_body()
    reply, quote = await create(ctx.client, body)
    want = expected_quote(body)
    got_lines = get_path(reply, quote, "lines")
    if not isinstance(got_lines, list) or len(got_lines) != 100:
        count = len(got_lines) if isinstance(got_lines, list) else show(got_lines)
        raise reply.fail("all 100 lines back", f"{count} lines")
    for i, (sent, total) in enumerate(zip(body["lines"], want.line_totals, strict=True)):
        q, p, d = sent["quantity"], sent["unit_price"], sent["discount_percent"]
        expect_amount(reply, quote, f"lines.{i}.line_total", total,
                      f"{q} × {p} × (1 − {d}/100), rounded half-up")
    for name in ("subtotal", "order_discount_amount", "total"):
        expect_amount(reply, quote, name, getattr(want, name), "summed over 100 lines")
    expect_decision(reply, quote, body, "lines with discounts up to 11% and a total over 1000")


@check("robustness.decision_body_422", "robustness",
       "approve/reject bodies missing approver or reason, or out of bounds, answer 422; limits are valid")
async def decision_body_422(ctx: CheckContext) -> None:
    quote = await create_pending(ctx.client, "decbody")
    cases = [
        ("approve {}", "approve", {}),
        ('approver ""', "approve", {"approver": ""}),
        ("approver of 65 chars", "approve", {"approver": "a" * 65}),
        ("comment of 501 chars", "approve", {"approver": "a", "comment": "c" * 501}),
        ("reject without reason", "reject", {"approver": "a"}),
        ('reason ""', "reject", {"approver": "a", "reason": ""}),
        ("reason of 501 chars", "reject", {"approver": "a", "reason": "r" * 501}),
        ('reject approver ""', "reject", {"approver": "", "reason": "r"}),
        ("reject approver of 65 chars", "reject", {"approver": "a" * 65, "reason": "r"}),
    ]
    failing = []
    for label, verb, payload in cases:
        reply = await call(ctx.client, "POST", f"/quotes/{quote['id']}/{verb}", payload)
        if reply.status != 422:
            failing.append((Case(label, "POST", reply.path), reply))
        if 200 <= reply.status < 300:  # it took the decision: the next case needs a new quote
            quote = await create_pending(ctx.client, "decbody")
    if failing:
        raise CheckFailed(cases_message(failing, "422", "approver 1-64 chars is required, "
                                        "comment at most 500, reject needs a reason of 1-500 chars"))
    # The limits themselves are valid. The approval also shows that the refused bodies
    # left the quote pending (it would get 409 otherwise); a GET tells which, on failure.
    approve = await call(ctx.client, "POST", f"/quotes/{quote['id']}/approve",
                         {"approver": "a" * 64, "comment": "c" * 500})
    if not 200 <= approve.status < 300:
        reply = await call(ctx.client, "GET", f"/quotes/{quote['id']}")
        status = reply.require_2xx("the Quote").get("status")
        if status != "PENDING_APPROVAL":
            raise reply.fail('status "PENDING_APPROVAL": a refused decision changes nothing',
                             f"status {show(status)}",
                             after=f"after {len(cases)} invalid decision bodies")
        raise approve.fail("a 2xx answer (an approver of 64 and a comment of 500 chars are allowed)")
    other = await create_pending(ctx.client, "decbody")
    reject = await call(ctx.client, "POST", f"/quotes/{other['id']}/reject",
                        {"approver": "r" * 64, "reason": "r" * 500})
    reject.ensure_2xx("the rejected Quote (an approver of 64 and a reason of 500 chars are allowed)")


@check("robustness.extra_fields_ignored", "robustness",
       "unknown extra fields in create and approve bodies are ignored, not rejected")
async def extra_fields_ignored(ctx: CheckContext) -> None:
    body = quote_body(line(unit_price=1500.0, color="red"), tag="extra", priority="high")
    reply, quote = await create(ctx.client, body)
    reply = await call(ctx.client, "POST", f"/quotes/{quote['id']}/approve",
                       {"approver": "a", "channel": "email"})
    reply.require_2xx("the approved Quote (unknown fields are ignored)")
