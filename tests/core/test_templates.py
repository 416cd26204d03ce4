"""Rules every template keeps, checked over the template files themselves."""

import re
from pathlib import Path

import opplevelseskort

TEMPLATES = Path(opplevelseskort.resource_dir("templates"))


def test_every_scrolling_table_can_be_reached_by_keyboard():
    """A wide table scrolls inside .table-wrap; a keyboard user must be able to focus it to scroll it
    (WCAG 2.1.1, axe `scrollable-region-focusable`), and a screen reader hears what it is."""
    wraps = [(p.name, m.group(0)) for p in TEMPLATES.rglob("*.html")
             for m in re.finditer(r"<div class=\"table-wrap\"[^>]*>", p.read_text(encoding="utf-8"))]
    assert wraps
    bad = [(name, tag) for name, tag in wraps
           if 'tabindex="0"' not in tag or 'role="region"' not in tag or "aria-label" not in tag]
    assert not bad, bad


def test_every_scrollable_table_region_is_named_for_its_table():
    """A screen reader lists regions by name: "Tabell" twice on a page tells nobody which is which (issue 35)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    problems = []
    for path in sorted(root.rglob("*.html")):
        labels = re.findall(r'role="region" aria-label="(.*?)">', path.read_text(encoding="utf-8"))
        if any(label == '{{ _("Tabell") }}' for label in labels) or len(labels) != len(set(labels)):
            problems.append(f"{path.relative_to(root)}: {labels}")
    assert not problems, problems
