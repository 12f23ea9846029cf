from fastapi import FastAPI, Request

app = FastAPI()


@app.get("/hello")
async def hello():
    hoard = []
    while True:
        hoard.append(bytearray(32 * 1024 * 1024))


@app.post("/echo")
async def echo(request: Request):
    return await request.json()
