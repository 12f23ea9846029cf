"""The full-screen race viewer (the only part of loopterm that imports Textual).

``make_app`` in ``app.py`` builds it for the CLI and the tests; ``launch.py``
runs it for a live race or a replay.
"""

# Here, not in app.py, so the CLI can parse --fps without importing Textual.
DEFAULT_FPS = 25  # repaints a second at most: news shows within 40 ms, however many events arrive
MAX_FPS = 60  # Textual's own frame rate
