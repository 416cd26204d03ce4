"""Catalogs: current with the code, complete where they must be, compiled, placeholders intact."""

import re
import subprocess
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from opplevelseskort.core.languages import (
    FAMILY_DOCUMENTS,
    FAMILY_MESSAGES,
    FAMILY_ONLY,
    FAMILY_TEMPLATES,
    STAFF_COMPLETE,
)

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "opplevelseskort" / "translations"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")


def _po(lang):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=lang)


def _key(msgid):
    """A plural entry (msgid, msgid_plural) is known by its singular."""
    return msgid[0] if isinstance(msgid, list | tuple) else msgid


def _text(string):
    """A plural entry's forms as one tuple; '' when any form is missing."""
    if isinstance(string, list | tuple):
        return tuple(string) if all(string) else ""
    return string


def _translated(lang):
    return {_key(m.id): _text(m.string) for m in _po(lang) if m.id and _text(m.string)}


@pytest.fixture(scope="module")
def source_ids(tmp_path_factory):
    """Every msgid the code and templates use, extracted afresh."""
    out = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run(["pybabel", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext",
                    "-o", str(out), str(ROOT)], check=True, capture_output=True, cwd=ROOT)
    with open(out, "rb") as fh:
        return {_key(m.id) for m in read_po(fh) if m.id}


def test_every_used_string_is_in_the_catalogs(source_ids):
    with open(TRANSLATIONS / "messages.pot", "rb") as fh:
        pot = {_key(m.id) for m in read_po(fh) if m.id}
    missing = source_ids - pot
    assert not missing, f"run tools/i18n.sh: {sorted(missing)[:10]}"


@pytest.mark.parametrize("lang", [lang for lang in STAFF_COMPLETE if lang != "nb"])
def test_staff_languages_translate_every_string(source_ids, lang):
    missing = sorted(source_ids - set(_translated(lang)))
    assert not missing, f"{lang} lacks {len(missing)}: {missing[:10]}"


def _family_ids():
    ids = set(FAMILY_MESSAGES) | set(FAMILY_DOCUMENTS)
    for name in FAMILY_TEMPLATES:
        for _line, message, _c, _ctx in extract_from_file(
                "jinja2", str(ROOT / "templates" / name),
                options={"extensions": "jinja2.ext.do,jinja2.ext.i18n", "trimmed": "true"}):
            ids.add(message if isinstance(message, str) else message[0])
    return ids


@pytest.mark.parametrize("lang", FAMILY_ONLY)
def test_family_pages_and_messages_exist_in_every_family_language(lang):
    missing = sorted(_family_ids() - set(_translated(lang)))
    assert not missing, f"{lang} lacks {len(missing)}: {missing[:10]}"


@pytest.mark.parametrize("lang", STAFF_COMPLETE + FAMILY_ONLY)
def test_placeholders_survive_translation(lang):
    for msgid, text in _translated(lang).items():
        for form in text if isinstance(text, tuple) else (text,):
            assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(form)), (lang, msgid)


@pytest.mark.parametrize("lang", STAFF_COMPLETE + FAMILY_ONLY)
def test_compiled_catalog_matches_source(lang):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo", "rb") as fh:
        mo = {_key(m.id): _text(m.string) for m in read_mo(fh) if m.id}
    po = _translated(lang)
    # an untranslated plural entry is compiled with the source's own forms (what gettext would show anyway)
    mo = {k: v for k, v in mo.items() if v and (k in po or not isinstance(v, tuple))}
    assert po == mo, f"run tools/i18n.sh compile for {lang}"
