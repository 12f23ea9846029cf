import os

from fastapi import FastAPI, Request

print("x" * 50_000_000)  # 50 MB through sys.stdout
chunk = b"y" * (1 << 20)
for _ in range(50):  # and 50 MB straight to fd 1
    os.write(1, chunk)

app = FastAPI()


@app.get("/hello")
async def hello():
    print("z" * 10_000_000)
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return await request.json()
