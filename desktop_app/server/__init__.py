"""The team server: the HTTP API over the store (FastAPI, run by uvicorn)."""
