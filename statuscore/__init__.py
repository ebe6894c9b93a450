"""The `statuscore` command: the composition root, the one package that wires the appliance core,
the HTTP server and the terminal console together. Each command is one module; the frameworks
(flask and waitress for `serve`, textual for `console`) are imported only inside the command that
runs them, so `statuscore --version` or a probe loads neither."""
