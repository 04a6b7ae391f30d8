"""`python -m workers` is the `haodian` command."""

from workers.cli.app import main

main()
