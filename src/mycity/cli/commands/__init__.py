"""The command groups, one module each; each adds its commands with `register(cli)`."""
