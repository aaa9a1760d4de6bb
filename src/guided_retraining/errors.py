"""Exceptions with one-line messages meant for users."""


class GuidedRetrainingError(Exception):
    """Base class: its message is a single line naming the key or path at fault.

    Newlines in the message (from a wrapped library error, say) become spaces.
    """

    def __init__(self, message: object = "") -> None:
        super().__init__(str(message).replace("\n", " "))


class ConfigError(GuidedRetrainingError):
    """A configuration value is missing, mistyped or out of range."""


class DataError(GuidedRetrainingError):
    """An input or intermediate file is missing, corrupt or inconsistent."""


class ModelError(GuidedRetrainingError):
    """A trained model is unfit for the study (e.g. no better than chance)."""
