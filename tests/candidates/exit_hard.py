import os

os._exit(7)  # skips every exception handler
