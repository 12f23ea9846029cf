import os
import pathlib
import shutil

from fastapi import FastAPI

TARGET = "__TARGET__"
attempts = {
    "open": lambda: open(TARGET, "w").write("pwned"),
    "os.open": lambda: os.write(os.open(TARGET, os.O_WRONLY | os.O_CREAT, 0o644), b"pwned"),
    "pathlib": lambda: pathlib.Path(TARGET).write_text("pwned"),
    "dir_fd": lambda: os.write(
        os.open(os.path.basename(TARGET), os.O_WRONLY | os.O_CREAT, 0o644,
                dir_fd=os.open(os.path.dirname(TARGET), os.O_RDONLY)),
        b"pwned",
    ),
    "shutil": lambda: (open("local.txt", "w").write("pwned"), shutil.copy("local.txt", TARGET)),
    "rename": lambda: os.rename("local.txt", TARGET),
    "symlink": lambda: (os.symlink(os.path.dirname(TARGET), "link"),
                        open(os.path.join("link", os.path.basename(TARGET)), "w").write("pwned")),
}
for name, attempt in attempts.items():
    try:
        attempt()
        print("WROTE", name)
    except Exception as exc:
        print("REFUSED", name, type(exc).__name__, exc)

with open("inside.txt", "w") as f:  # its own folder is fine
    f.write("ok")
print("INSIDE", open("inside.txt").read())

app = FastAPI()
