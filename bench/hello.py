"""A bare Flask "hello", the yardstick the app is measured against (bench/throughput.py).

Answers every path and method with a short text, under the same gunicorn as the app.
"""

from flask import Flask

app = Flask(__name__)


@app.route("/", defaults={"path": ""}, methods=["GET", "POST"])
@app.route("/<path:path>", methods=["GET", "POST"])
def hello(path: str) -> str:
    return "Hello, World!"
