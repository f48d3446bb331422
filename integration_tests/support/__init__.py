"""Code used by both the tests and the tools/ scripts: where the project is, the real CLI run as a process, the
fake server run as a process and the config pointing at it, and the PyAirbyte venv. It imports no test module."""
