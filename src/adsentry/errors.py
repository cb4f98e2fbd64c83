"""Errors that commands report to the user as one line (never a traceback)."""


class AdsentryError(Exception):
    """An error that a command reports as one line on stderr, exiting non-zero."""


class InputError(AdsentryError):
    """An input file cannot be opened or read at all (missing, a directory, ...)."""


class StoreError(AdsentryError):
    """The case database cannot be opened, read or written."""
