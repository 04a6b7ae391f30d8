"""`python -m workers` is the `haodian` command."""

from workers.cli import main

main()
