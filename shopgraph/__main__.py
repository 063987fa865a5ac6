from shopgraph.cli import app

app(prog_name="shopgraph")
