"""Three checks, enough to see pass, partial and fail through the sandbox."""

from loopterm.suite import CheckContext, Suite

SUITE = Suite("mini")


@SUITE.check("hello", "logic", "GET /hello says hello")
async def hello(ctx: CheckContext) -> None:
    r = await ctx.client.get("/hello")
    assert r.status_code == 200, f"GET /hello: expected 200, got {r.status_code}"
    assert r.json().get("msg") == "hello", f"GET /hello: expected msg hello, got {r.text[:200]}"


@SUITE.check("echo", "shape", "POST /echo returns the body")
async def echo(ctx: CheckContext) -> None:
    r = await ctx.client.post("/echo", json={"a": 1})
    assert r.status_code == 200 and r.json() == {"a": 1}, f"POST /echo: got {r.status_code} {r.text[:200]}"


@SUITE.check("missing", "robustness", "an unknown path is 404")
async def missing(ctx: CheckContext) -> None:
    r = await ctx.client.get("/nope")
    assert r.status_code == 404, f"GET /nope: expected 404, got {r.status_code}"
