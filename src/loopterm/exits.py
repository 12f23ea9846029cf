"""loopterm's exit codes, in one place: what a script can tell from ``$?``.

0 the job ran and its answer is yes; 1 it ran and the answer is no (a failing
candidate, a lane's sandbox failure, a trace that could not be written);
2 the input was wrong (a usage error, a bad lanes file, trace or task: one
line says what and what to do); 128 + a signal when it was stopped the way a
shell reports that signal.
"""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    OK = 0
    FAILED = 1  # the job ran; its answer is no, or it could not keep its record
    USAGE = 2  # bad input: nothing ran, or it stopped at the bad part
    HANGUP = 129  # 128 + SIGHUP: the terminal went away (SSH dropped, tmux killed)
    INTERRUPTED = 130  # 128 + SIGINT: Ctrl-C, or the user quit a live race
    OUTPUT_CLOSED = 141  # 128 + SIGPIPE: the output was closed (`| head`), as a shell reports it
