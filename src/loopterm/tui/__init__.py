"""The full-screen race viewer (the only part of loopterm that imports Textual).

``make_app`` in ``app.py`` builds it for the CLI and the tests; ``launch.py``
runs it for a live race or a replay.
"""
