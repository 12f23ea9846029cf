from fastapi import FastAPI

hoard = []
while True:
    hoard.append(bytearray(32 * 1024 * 1024))

app = FastAPI()
