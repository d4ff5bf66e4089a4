"""Writes the common document schema as JSON Schema: `python -m schemas.export`."""

from __future__ import annotations

import json
from pathlib import Path

from schemas.document import Document

SCHEMA_PATH = Path(__file__).with_name("document.schema.json")


def document_schema() -> str:
    """The JSON Schema text, stable (sorted keys, trailing newline) so diffs stay readable."""
    return (
        json.dumps(Document.model_json_schema(), ensure_ascii=False, indent=2, sort_keys=True)
        + "\n"
    )


def main() -> None:
    SCHEMA_PATH.write_text(document_schema(), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")


if __name__ == "__main__":
    main()
