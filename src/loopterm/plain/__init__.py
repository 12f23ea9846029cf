"""Plain output: what loopterm prints when it is not drawing the full-screen viewer.

One home for the printers people pipe, log and read over SSH, beside the
state they print (:mod:`loopterm.stats`: run summaries, bench progress, the
report):

- :mod:`.console`: the console (its width, a closed pipe), and one plain line
  wrapped at word boundaries.
- :mod:`.race`: ``race --plain``, a line per turn and per finished lane, then the results table.
- :mod:`.bench`: ``bench --plain``, a line per finished run with an ETA, then the bench table.
- :mod:`.replay`: ``replay --plain``, the printer the live command used for a trace's kind.
- :mod:`.results`: the table left in the scrollback when the viewer closes.
- :mod:`.cast`: ``export``, an asciinema cast of the plain replay.

The words they print (outcomes, places, seconds, tokens, money) come from
:mod:`loopterm.words`. Nothing here imports a command: the commands call in.
"""
