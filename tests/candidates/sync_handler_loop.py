from fastapi import FastAPI, Request

app = FastAPI()


@app.get("/hello")
def hello():
    while True:  # a sync handler runs in a thread: only this request hangs
        pass


@app.post("/echo")
async def echo(request: Request):
    return await request.json()
