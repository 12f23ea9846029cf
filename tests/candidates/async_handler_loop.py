from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
async def hello():
    while True:  # never awaits: blocks the whole event loop
        pass
