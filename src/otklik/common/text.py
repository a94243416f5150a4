"""Normalisation of user-typed text for matching: case, ё/е and spacing do not matter."""

import re

_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    return _SPACES.sub(" ", (text or "").replace("ё", "е").replace("Ё", "Е").lower()).strip()
