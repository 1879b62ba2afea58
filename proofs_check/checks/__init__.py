"""Check modules; each registers its claims with proofs_check.registry.claim on import."""

CHECK_MODULES: tuple[str, ...] = (
)
