app = "FastAPI()"
