"""One module per ``loopterm`` subcommand (see ``loopterm.cli``)."""
