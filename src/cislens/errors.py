"""One exception type for bad user input, so rules and the CLI can print one clear line."""


class InputError(ValueError):
    """Bad input: the message says what is wrong and where (file, line, key)."""


def corrupt_output(path: object) -> InputError:
    """The one message for an output of ours (model.keras, dataset.h5, attribution h5) that cannot
    be read: a killed job or a full disk left it truncated, and rerunning rebuilds it."""
    return InputError(f"{path}: corrupt or truncated: delete it and rerun")
