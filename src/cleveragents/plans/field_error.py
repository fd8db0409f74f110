"""FieldError: a validator's error about a part of a field, so that the one-line message of an
action file names exactly where the problem is (``action.params.marker``, ``action.prompt``)."""

from __future__ import annotations


class FieldError(ValueError):
    """A validation error at ``loc`` (relative to the field or model that raised it)."""

    def __init__(self, loc: tuple[str, ...], detail: str) -> None:
        super().__init__(detail)
        self.loc = loc
        self.detail = detail
