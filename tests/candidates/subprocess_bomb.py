import subprocess

subprocess.Popen(["/bin/sh", "-c", "while true; do sleep 1 & done"])
