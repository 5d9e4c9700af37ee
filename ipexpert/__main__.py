"""`python -m ipexpert` runs the same command as `ipexpert`."""

from ipexpert.cli import main

main()
