"""`python -m audiodrama` runs the command line."""

from audiodrama.cli import main

main()
