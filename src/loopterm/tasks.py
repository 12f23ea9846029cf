"""Tasks are data: ``spec/<id>/`` (what the model sees) + ``validation/<id>/``.

``spec/<id>/`` holds ``openapi.yaml``, ``rules.md``, ``prompt.md`` (turn 1) and
``fix_prompt.md`` (every later turn). Prompts are ``string.Template`` texts with
``$openapi``, ``$rules`` and, in the fix prompt, ``$code``, ``$feedback`` and
``$turn``. ``validation/<id>/`` holds ``checks.py`` (a ``SUITE``),
``reference.py`` (a candidate passing every check) and ``faults.py``
(``FAULTS``). Tasks are found by id in ``--task-dir``, the checkout, or the
installed package's data.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import string
import sys
import types
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from loopterm.paths import data_dir

if TYPE_CHECKING:
    from loopterm.faults import Fault
    from loopterm.suite import Suite

DEFAULT_TASK = "quote-approval"
# A task id names two folders, so it must be one plain path segment: no "", ".", "..", "/".
TASK_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")


class TaskError(ValueError):
    """A task that cannot be found or loaded; the message says what to do."""


def _package_name(task_id: str, validation_dir: Path) -> str:
    # One package per task folder, so two folders with the same id do not clash.
    digest = hashlib.sha1(str(validation_dir.resolve()).encode()).hexdigest()[:8]
    return f"_loopterm_task_{re.sub(r'[^0-9a-zA-Z]', '_', task_id)}_{digest}"


def import_task_module(task_id: str, validation_dir: Path, name: str) -> types.ModuleType:
    """Import ``validation/<id>/<name>.py`` as part of a package for that folder.

    The folder need not have an ``__init__.py``; sibling modules can import each
    other with relative imports.
    """
    package = _package_name(task_id, validation_dir)
    if package not in sys.modules:
        spec = importlib.util.spec_from_loader(package, loader=None, is_package=True)
        assert spec is not None
        spec.submodule_search_locations = [str(validation_dir)]
        module = importlib.util.module_from_spec(spec)
        sys.modules[package] = module
    try:
        return importlib.import_module(f"{package}.{name}")
    except (Exception, SystemExit) as exc:  # the suite's own code: one line naming file, line, error
        # The per-folder package name is ours, not the author's: show their folder's names.
        failure = _import_failure(exc, validation_dir).replace(f"{package}.", "")
        raise TaskError(f"task {task_id}: cannot load {name}.py: {failure}") from None


def _import_failure(exc: BaseException, validation_dir: Path) -> str:
    """``<file>:<line>: <error>`` for an exception raised while importing a task module."""
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f"{exc.filename}:{exc.lineno}" if exc.lineno else exc.filename
        return f"{where}: SyntaxError: {exc.msg}"
    where = ""
    folder = str(validation_dir.resolve())
    tb = exc.__traceback__
    while tb is not None:  # the innermost frame inside the task folder is the one to fix
        if tb.tb_frame.f_code.co_filename.startswith(folder):
            where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}: "
        tb = tb.tb_next
    text = str(exc).strip().splitlines()
    return f"{where}{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


@dataclass
class Task:
    id: str
    spec_dir: Path
    validation_dir: Path
    _cache: dict[str, object] = field(default_factory=dict, repr=False)

    def _read(self, path: Path) -> str:
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise TaskError(f"task {self.id}: missing {path}") from None

    @cached_property
    def openapi(self) -> str:
        return self._read(self.spec_dir / "openapi.yaml")

    @cached_property
    def rules(self) -> str:
        return self._read(self.spec_dir / "rules.md")

    @property
    def reference_path(self) -> Path:
        return self.validation_dir / "reference.py"

    @cached_property
    def reference_source(self) -> str:
        return self._read(self.reference_path)

    @cached_property
    def suite(self) -> Suite:
        from loopterm.suite import Suite

        module = import_task_module(self.id, self.validation_dir, "checks")
        suite = getattr(module, "SUITE", None)
        where = self.validation_dir / "checks.py"
        if suite is None:
            raise TaskError(f"task {self.id}: {where}: defines no SUITE; add SUITE = Suite(...) from loopterm.suite")
        if not isinstance(suite, Suite):
            # Found only inside the check runner, it read as the sandbox failing to start.
            raise TaskError(f"task {self.id}: {where}: SUITE is a {type(suite).__name__}, not a loopterm.suite.Suite")
        return suite

    @cached_property
    def faults(self) -> list[Fault]:
        if not (self.validation_dir / "faults.py").exists():
            return []
        module = import_task_module(self.id, self.validation_dir, "faults")
        return list(getattr(module, "FAULTS", []))

    def first_prompt(self) -> str:
        template = string.Template(self._read(self.spec_dir / "prompt.md"))
        return template.safe_substitute(openapi=self.openapi, rules=self.rules)

    def fix_prompt(self, code: str, feedback: str, turn: int) -> str:
        template = string.Template(self._read(self.spec_dir / "fix_prompt.md"))
        return template.safe_substitute(openapi=self.openapi, rules=self.rules, code=code, feedback=feedback, turn=turn)

    @cached_property
    def hash(self) -> str:
        """sha256 of every file of the spec and the suite: a trace names what it ran."""
        digest = hashlib.sha256()
        for root in (self.spec_dir, self.validation_dir):
            for path in sorted(root.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    digest.update(path.relative_to(root).as_posix().encode())
                    digest.update(b"\0")
                    digest.update(path.read_bytes())
                    digest.update(b"\0")
        return digest.hexdigest()


def find_task(task_id: str = DEFAULT_TASK, task_dir: str | Path | None = None) -> Task:
    """Find a task by id in ``task_dir`` (a folder with spec/ and validation/), else bundled."""
    if not TASK_ID.fullmatch(task_id):
        raise TaskError(
            f"task id {task_id!r} is not valid: use lower-case letters, digits, '-' and '_', "
            f"starting with a letter or digit (e.g. {DEFAULT_TASK})"
        )
    roots = [Path(task_dir)] if task_dir is not None else [data_dir()]
    for root in roots:
        spec_dir = root / "spec" / task_id
        validation_dir = root / "validation" / task_id
        if spec_dir.is_dir() and validation_dir.is_dir():
            return Task(task_id, spec_dir.resolve(), validation_dir.resolve())
    where = ", ".join(str(r) for r in roots)
    raise TaskError(
        f"task '{task_id}' not found in {where}: expected spec/{task_id}/ and "
        f"validation/{task_id}/; check --task or --task-dir"
    )
