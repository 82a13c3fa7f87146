"""The baseline: a bare Flask "hello" app, served by the same gunicorn settings as Shanhuo."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "hello"
