"""One module per claim of the paper (see proofs_check.registry for what a module holds).

Discovered by proofs_check.registry.all_claims(); modules whose name starts with "_" are not
claims. Module names are the claim ids with dots as underscores (cor1.1 -> cor1_1).
"""
