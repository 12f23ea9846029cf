from fastapi import FastAPI

while True:
    pass

app = FastAPI()
