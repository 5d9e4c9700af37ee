"""What every stage uses: strict dates and integers, bundled resources, atomic output files, worker processes."""
