"""What every real provider shares: the request loop, error text, secrets.

A concrete provider only knows its wire protocol: it implements ``_stream``
(send one request, feed text into a ``StreamMeter``, raise ``ProviderError``
when the stream does not finish) and ``_classify`` (turn an SDK exception into
a ``ProviderError``). ``StreamingProvider.generate`` does the rest: the
per-request timeout, bounded retries with backoff, the Generation.
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Any

from loopterm.events import RetryRecord, TokenUsage
from loopterm.keys import mask_keys
from loopterm.lanes.kinds import key_problem
from loopterm.providers import retry
from loopterm.providers.base import (
    ChatMessage,
    ErrorKind,
    Generation,
    ProgressCallback,
    ProviderError,
)
from loopterm.providers.meter import AnswerTooLong, CallbackFailed, StreamMeter, attempt_usage
from loopterm.providers.retry import Backoff
from loopterm.words import fmt_setting_s, plural

if TYPE_CHECKING:
    from loopterm.lanes import Lane

# A local server that needs no key still wants a non-empty bearer token.
DUMMY_KEY = "not-needed"


def scrub(text: str, secret: str | None) -> str:
    """``text`` with the secret and key-shaped words masked, on one short line."""
    if secret and secret != DUMMY_KEY:
        text = text.replace(secret, "***")
    # Hosted APIs echo part of a rejected key back ("Incorrect API key provided: sk-ab***yz").
    text = mask_keys(text)
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:197] + "..."


class StreamingProvider:
    """Base of the real providers; see the module docstring."""

    protocol = "?"  # shown in messages, e.g. "OpenAI-compatible"

    def __init__(self, lane: Lane, *, backoff: Backoff | None = None) -> None:
        self.lane = lane
        self._backoff = backoff
        self._client: Any = None
        self._client_key: tuple[int, str | None] | None = None

    def __repr__(self) -> str:
        # Never the client (it holds the key): the lane only names the variable.
        return f"{type(self).__name__}(lane={self.lane.name!r}, model={self.lane.model!r})"

    @property
    def backoff(self) -> Backoff:
        return self._backoff or retry.DEFAULT_BACKOFF

    # -- what a concrete provider implements --------------------------------
    def _new_client(self, key: str | None) -> Any:
        """The SDK client for this lane (providers that use one)."""
        raise NotImplementedError

    async def _close_client(self, client: Any) -> None:
        """Release the client's connections."""

    async def _stream(self, messages: list[ChatMessage], meter: StreamMeter) -> None:
        raise NotImplementedError

    def _classify(self, exc: Exception, meter: StreamMeter) -> ProviderError:
        raise NotImplementedError

    def endpoint(self) -> str:
        """The URL shown in messages (never with a key in it)."""
        return self.lane.shown_url or "the default endpoint"

    # -- shared -------------------------------------------------------------
    def client_for(self, key: str | None) -> Any:
        """One SDK client per event loop and key: connections are reused across
        turns, as a real user's would be, but never shared between loops."""
        cache_key = (id(asyncio.get_running_loop()), key)
        if self._client is None or self._client_key != cache_key:
            self._client = self._new_client(key)
            self._client_key = cache_key
        return self._client

    async def aclose(self) -> None:
        """Close the SDK client's connections; the provider can still be used after."""
        client, self._client, self._client_key = self._client, None, None
        if client is not None:
            await self._close_client(client)

    def api_key(self, *, required: bool) -> str | None:
        """The key from the lane's variable; MISSING_KEY when required and absent.

        A lane naming no variable gets None, unless its endpoint always wants a
        key (Gemini, api.openai.com): then MISSING_KEY before any round trip,
        with the words ``loopterm lanes`` shows for it.
        """
        problem = key_problem(self.lane) if required else None
        if problem is not None:
            raise self.error(ErrorKind.MISSING_KEY, problem)
        var = self.lane.api_key_env
        return (os.environ.get(var, "").strip() or None) if var else None

    def error(self, kind: ErrorKind, what: str, retry_after: float | None = None) -> ProviderError:
        return ProviderError(kind, f"{self.lane.name}: {what}", retry_after=retry_after)

    def status_error(self, status: int, detail: str, retry_after: float | None, secret: str | None) -> ProviderError:
        """The one mapping of HTTP statuses to error kinds, shared by every protocol."""
        detail = scrub(detail, secret)
        tail = f": {detail}" if detail else ""
        where = self.endpoint()
        if status in (401, 403):
            var = self.lane.api_key_env
            fix = f"check the key in {var}" if var else "this server wants an API key: set api_key_env"
            # No server detail here: auth errors are the ones that echo keys back.
            return self.error(ErrorKind.AUTH, f"{where} refused the API key ({status}): {fix}")
        if status == 404:
            return self.error(
                ErrorKind.MODEL_NOT_FOUND,
                f"model '{self.lane.model}' not found at {where} (404): "
                "check the model name exists on that server and base_url is right",
            )
        if status == 429:
            wait = (
                f"retry after {fmt_setting_s(retry_after)}"
                if retry_after is not None
                else "slow down: check the account's rate limits or race fewer lanes on this key"
            )
            return self.error(ErrorKind.RATE_LIMITED, f"rate limited (429): {wait}{tail}", retry_after)
        if status == 408:
            return self.error(ErrorKind.TIMEOUT, f"{where} timed out the request (408){tail}")
        if status >= 500:
            return self.error(
                ErrorKind.SERVER_ERROR,
                f"server error {status} at {where}{tail}: the server failed, not the model; "
                "try again later or check the server's status or logs",
                retry_after,
            )
        return self.error(
            ErrorKind.BAD_REQUEST,
            f"{where} refused the request ({status}){tail}: check the lane's model and params",
        )

    def unreachable(self) -> ProviderError:
        from loopterm.providers.readiness import is_local

        where = self.endpoint()
        fix = "is the server running?" if is_local(where) else "check your network connection and proxy settings"
        return self.error(ErrorKind.UNREACHABLE, f"cannot reach {where}: {fix}")

    def timed_out(self) -> ProviderError:
        return self.error(
            ErrorKind.TIMEOUT,
            f"no complete answer within {fmt_setting_s(self.lane.timeout_s)} (timeout_s): "
            "raise timeout_s for this lane or check the server",
        )

    def stream_cut(self, meter: StreamMeter, *, dropped: bool) -> ProviderError:
        """The answer stopped part-way: ``dropped`` when the connection broke,
        else the stream ended cleanly without saying it had finished."""
        how = (
            "the connection dropped: check the network or the server's logs"
            if dropped
            else "the server ended it without a finish marker: check the server's logs and base_url"
        )
        return self.error(
            ErrorKind.STREAM_CUT,
            f"the stream from {self.endpoint()} stopped before it finished (after {meter.chars} characters): {how}",
        )

    def connection_lost(self, meter: StreamMeter) -> ProviderError:
        """A transport error: unreachable before the server answered, a cut stream after."""
        return self.stream_cut(meter, dropped=True) if meter.responded else self.unreachable()

    def protocol_error(self, detail: str) -> ProviderError:
        return self.error(
            ErrorKind.PROTOCOL,
            f"{self.endpoint()} sent something that is not a valid {self.protocol} reply "
            f"({scrub(detail, None)}): check base_url points at a server speaking that API",
        )

    async def generate(self, messages: list[ChatMessage], on_progress: ProgressCallback | None = None) -> Generation:
        retries: list[RetryRecord] = []
        spent: list[TokenUsage] = []  # what the retried attempts were billed
        while True:
            meter = StreamMeter(on_progress)
            failure: ProviderError | None = None
            try:
                async with asyncio.timeout(self.lane.timeout_s):
                    await self._stream(messages, meter)
            except ProviderError as exc:
                failure = exc
            except AnswerTooLong:
                pass  # not a failure: the turn judges the answer (too long); nothing is retried
            except CallbackFailed as exc:
                raise exc.original from None
            except TimeoutError:
                failure = self.timed_out()
            except Exception as exc:  # an SDK or network failure: classify, never raise
                failure = self._classify(exc, meter)
            meter.done()
            if failure is None:
                return self._generation(messages, meter, retries, spent)
            kind = failure.kind
            too_long = failure.retry_after is not None and failure.retry_after > self.backoff.max_retry_after_s
            if not kind.retryable or too_long or len(retries) >= self.lane.max_retries:
                if too_long:
                    limit = fmt_setting_s(self.backoff.max_retry_after_s)
                    failure = ProviderError(
                        kind, f"{failure} (not retried: longer than the {limit} a lane waits; try again later)"
                    )
                elif retries:
                    # The message says what to do; say too that retrying did not help.
                    failure = ProviderError(
                        kind, f"{failure} (gave up after {plural(len(retries), 'retry', 'retries')})"
                    )
                return self._generation(messages, meter, retries, spent, failure)
            billed = self._billed(messages, meter)
            if billed is not None:
                spent.append(billed)
            wait = self.backoff.delay(len(retries), failure.retry_after)
            retries.append(RetryRecord(kind=kind.value, message=str(failure), wait_s=round(wait, 4)))
            await asyncio.sleep(wait)

    def _billed(self, messages: list[ChatMessage], meter: StreamMeter) -> TokenUsage | None:
        """The tokens one attempt was billed: the server's count, else an estimate
        when text streamed (the prompt was read and tokens generated), else None
        (refused before any work: a 429, 401 or 5xx costs nothing we can know of)."""
        if meter.usage is None and not meter.text:
            return None
        return attempt_usage(messages, meter)

    def _generation(
        self,
        messages: list[ChatMessage],
        meter: StreamMeter,
        retries: list[RetryRecord],
        spent: list[TokenUsage],
        failure: ProviderError | None = None,
    ) -> Generation:
        """The Generation: text and timings of the last attempt; tokens and cost of
        every billed attempt, so a stream cut after thousands of tokens and then
        retried still shows what it cost."""
        text = meter.text
        # A failed attempt that streamed nothing and reported no count was refused
        # before any work (a 429, a 5xx, an HTML page): it adds no tokens and no cost.
        last = attempt_usage(messages, meter) if failure is None else self._billed(messages, meter)
        billed = ([last] if last is not None else []) + spent
        usage = (
            billed[0]
            if len(billed) == 1
            else TokenUsage(
                prompt=sum(u.prompt for u in billed),
                completion=sum(u.completion for u in billed),
                reasoning=sum(u.reasoning for u in billed),
                estimated=any(u.estimated for u in billed),
            )
        )
        return Generation(
            text=text,
            ttft_s=meter.ttft_s,
            generation_s=meter.elapsed_s,
            usage=usage,
            cost=self.lane.cost(usage.prompt, usage.completion) if billed else None,
            error=str(failure) if failure else None,
            error_kind=failure.kind if failure else None,
            retries=retries,
            provider_timing=meter.timing,
            stopped_at_cap=meter.stopped,
        )
