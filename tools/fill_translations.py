"""Fill catalog entries from a JSON file: {msgid: {lang: text, ...}, ...}; then run `tools/i18n.sh compile`.
A plural entry is keyed by its singular msgid and given a list (one text per plural form of the language).

    python tools/fill_translations.py strings.json

Staff languages (nb nn en sv) are written unwrapped; family languages keep Babel's default width.
"""

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

DIR = Path(__file__).resolve().parent.parent / "opplevelseskort" / "translations"
STAFF = {"nb", "nn", "en", "sv"}


def main(path: str) -> None:
    wanted = json.loads(Path(path).read_text(encoding="utf-8"))
    langs = {lang for texts in wanted.values() for lang in texts}
    for lang in sorted(langs):
        po_path = DIR / lang / "LC_MESSAGES" / "messages.po"
        with po_path.open("rb") as f:
            catalog = read_po(f, locale=lang)
        for msgid, texts in wanted.items():
            if lang in texts:
                if msgid not in catalog:
                    raise SystemExit(f"{lang}: not in the catalog (run tools/i18n.sh extract update): {msgid!r}")
                text = texts[lang]
                catalog[msgid].string = tuple(text) if isinstance(text, list) else text
                catalog[msgid].flags.discard("fuzzy")
        with po_path.open("wb") as f:
            write_po(f, catalog, width=0 if lang in STAFF else 76, omit_header=False)


if __name__ == "__main__":
    main(sys.argv[1])
