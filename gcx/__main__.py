from gcx.cli import app

app()
