"""One module per ``marac-bot`` command: ``add_parser(sub)`` and the handler it installs."""
