"""One error type for bad input, so every stage reports it the same way."""


class KosparseError(Exception):
    """A problem with the user's input or configuration, reported as one line."""


class InputError(KosparseError):
    """Bad data in a named file; the message names the file and the record."""

    def __init__(self, path, message: str, record: str | None = None):
        where = f"{path}" if record is None else f"{path}: {record}"
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.record = record
