"""What the tests share: event builders, fakes, pilot helpers, the in-process CLI, the shared sandbox.

Imported as ``from support.x import y`` (``pythonpath = ["tests"]`` in pyproject.toml);
no test module imports another test module (tests/unit/test_test_layout.py checks it).
"""
