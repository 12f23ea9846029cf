"""The fake server as a fixture body: a test module wraps it in its own fixture.

@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeServer]:
    yield from running_fake_server()
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from support.fakes.models import Recorder, make_app
from support.fakes.server import serve


@dataclass
class FakeServer:
    url: str  # http://127.0.0.1:PORT
    recorder: Recorder


def running_fake_server() -> Iterator[FakeServer]:
    app, recorder = make_app()
    with serve(app) as url:
        yield FakeServer(url=url, recorder=recorder)
