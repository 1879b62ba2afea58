"""Check modules; each registers its claims with proofs_check.registry.claim on import."""

CHECK_MODULES: tuple[str, ...] = (
    "proofs_check.checks.section3",
    "proofs_check.checks.section4",
    "proofs_check.checks.training_ufm",
    "proofs_check.checks.training_deepnet",
)
