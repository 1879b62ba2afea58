"""The domain error raised for bad input anywhere in the project.

Every message is one sentence naming the argument, the value seen and the fix, so the CLI can
print it as it is and exit 2.
"""


class SeliInputError(ValueError):
    """An argument outside the domain of the paper's model (Definition 1, Section 2)."""
