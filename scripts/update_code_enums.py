"""Write the country, market and jurisdiction code lists (from pycountry) into the profile schema.

Run after upgrading pycountry: `python scripts/update_code_enums.py`; tests/reading/test_codes.py fails
while the schema and the library disagree.
"""

import json
from pathlib import Path

from ipexpert._reading import codes as _codes

SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "firm-profile.schema.json"


def main() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    schema.setdefault("$defs", {}).update(_codes.schema_defs())
    SCHEMA.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
