import multiprocessing

from fastapi import FastAPI


def spin():
    while True:
        pass


processes = [multiprocessing.Process(target=spin) for _ in range(4)]
for p in processes:
    p.start()

app = FastAPI()
