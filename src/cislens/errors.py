"""One exception type for bad user input, so rules and the CLI can print one clear line."""


class InputError(ValueError):
    """Bad input: the message says what is wrong and where (file, line, key)."""
