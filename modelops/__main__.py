from modelops.cli import app

app(prog_name="python -m modelops")
