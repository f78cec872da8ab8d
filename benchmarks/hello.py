"""A bare Flask route served by the same gunicorn set-up: the ceiling the product is compared
against (the ratio to it says what the product's own work costs)."""

from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello() -> str:
    return "Xin chào"
