import numpy as np
from fastapi import FastAPI

app = FastAPI()
