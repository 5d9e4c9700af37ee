"""`python -m ipexpert` runs the same command as `ipexpert`."""

from .cli import main

main()
