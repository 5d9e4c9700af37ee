"""Running the rules: packs compiled into an experta engine with ipexpert's Rete matcher and agenda (the only door to _vendor)."""
