"""Traces: every race persisted as a folder of JSONL files, replayable exactly.

Layout of one race folder (``<cache>/traces/<race_id>/``):
- ``race.json``: a small header: the ``race_started`` event (lanes without
  secrets, task id and hash, loopterm version, seed, start time) plus
  ``status`` (``running``, ``complete`` or ``aborted``) and, once ended, the
  ``race_done`` event.
- ``<run_id>.jsonl``: every event of one lane run, one JSON object a line,
  appended and flushed as it happens.
- ``race.lock``: only while the race is written: its writer's pid, under an
  exclusive ``flock`` the OS drops when that process dies (see ``writer``).
"""
