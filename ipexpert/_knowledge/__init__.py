"""Reading rule packs: packs and their layering, variable syntax, the condition tree, expressions, strata, languages."""
