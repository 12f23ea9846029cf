"""The provider registry: each kind declared once, read by everything; no import cycles anywhere."""

from __future__ import annotations

import ast
import importlib
import re
import typing
from pathlib import Path

import pytest

import loopterm
from loopterm.lanes import KINDS, Lane, LaneError, key_problem, pair_lane, resolve
from loopterm.lanes.model import ProviderName
from loopterm.providers.readiness import readiness, tiny

SRC = Path(loopterm.__file__).parent
pytestmark = pytest.mark.anyio


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Every module of the package and the package modules it imports, lazy imports included
    (an import inside a function is still a dependency); ``if TYPE_CHECKING:`` blocks excluded."""
    modules = {_module_name(path): path for path in SRC.rglob("*.py")}

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = _imports(ast.parse(path.read_text(encoding="utf-8")))
        graph[name] = {o for o in map(owner, found) if o is not None and o != name}
    return graph


class _Imports(ast.NodeVisitor):
    def __init__(self) -> None:
        self.found: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        if "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found.update(alias.name for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module and not node.level:
            self.found.update(f"{node.module}.{alias.name}" for alias in node.names)


def _imports(tree: ast.AST) -> set[str]:
    visitor = _Imports()
    visitor.visit(tree)
    return visitor.found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles_anywhere() -> None:
    graph = import_graph()
    assert "loopterm.lanes.model" in graph["loopterm.lanes.kinds"]  # the graph was read
    assert "loopterm.lanes.kinds" in graph["loopterm.providers.streaming"]
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_every_provider_kind_is_declared_once_and_runs() -> None:
    assert set(KINDS) == set(typing.get_args(ProviderName))
    for kind in KINDS.values():
        factory = getattr(importlib.import_module(kind.module), kind.factory)
        assert callable(factory), kind.name
        if kind.installed is not None:
            module, _, function = kind.installed.partition(":")
            assert callable(getattr(importlib.import_module(module), function))


def test_nothing_outside_the_registry_branches_on_a_provider_name() -> None:
    pattern = re.compile(r"\bprovider\s*(==|!=|in\s*[\(\[{])")
    offenders = [
        f"{path.relative_to(SRC)}:{n}"
        for path in SRC.rglob("*.py")
        if path.parent.name != "lanes"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_pairs_come_from_the_registry() -> None:
    for name, kind in KINDS.items():
        if kind.pair is None:
            with pytest.raises(LaneError, match=f"unknown provider '{name}'"):
                pair_lane(name, "x")
        else:
            model = "frontier" if name == "sim" else "some-model"
            assert resolve(f"{name}:{model}").provider == name
    with pytest.raises(LaneError, match="use openai:, gemini:, ollama:, sim: or a lane"):
        resolve("warp:9")


async def test_one_key_rule_one_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOME_KEY_VAR", raising=False)
    lane = Lane(
        name="L", provider="openai", model="m", base_url="https://example.invalid/v1", api_key_env="SOME_KEY_VAR"
    )
    assert key_problem(lane) == "no key: set SOME_KEY_VAR"
    state = await readiness(lane)
    assert not state.ready and state.detail == key_problem(lane)
    monkeypatch.setenv("SOME_KEY_VAR", "x" * 8)
    assert key_problem(lane) is None
    hosted = Lane(name="H", provider="openai", model="m")  # api.openai.com, no variable named
    assert key_problem(hosted) is not None and "api_key_env" in key_problem(hosted)  # type: ignore[operator]
    assert key_problem(Lane(name="G", provider="gemini", model="m")) is not None
    assert key_problem(Lane(name="O", provider="ollama", model="m")) is None


def test_the_check_caps_each_kind_with_its_own_param() -> None:
    caps = {
        name: tiny(
            Lane(
                name="x",
                provider=name,
                model="frontier" if name == "sim" else "m",  # type: ignore[arg-type]
                base_url=None,
            ),
            5,
        ).params
        for name in KINDS
    }
    assert caps["gemini"] == {"max_output_tokens": 16}
    assert caps["ollama"] == {"num_predict": 16}
    assert caps["openai"] == {"max_completion_tokens": 16}
    chosen = Lane(name="x", provider="openai", model="m", base_url="http://127.0.0.1:1/v1", params={"max_tokens": 99})
    assert tiny(chosen, 5).params == {"max_tokens": 99}  # the lane's own choice is kept
