"""Bundled procedures and FAQ written from the operators' stories, plus starter synonyms."""

import json
from pathlib import Path

DATA_FILE = Path(__file__).with_name("procedures.json")


def load_data() -> dict:
    with DATA_FILE.open(encoding="utf-8") as fh:
        return json.load(fh)
