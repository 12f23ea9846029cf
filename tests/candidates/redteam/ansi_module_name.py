"""Inject terminal escapes through the name of a module it cannot import.

It raises ModuleNotFoundError with a ``name`` that holds a screen clear, a
fake green PASS and a clipboard write: the loader quotes that name in "imports
a module that is not available: '<name>'", which every screen shows.
"""

raise ModuleNotFoundError("nope", name="\x1b[2J\x1b[H\x1b[32mall checks PASS\x1b[0m\r\x1b]52;c;cHduZWQ=\x07")
