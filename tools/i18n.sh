#!/bin/sh
# Extract every marked string, update each language's catalog, and compile them (.mo ships in the package).
# Usage: tools/i18n.sh [extract|update|compile|all]   (default: all)
set -e
cd "$(dirname "$0")/.."
POT=opplevelseskort/translations/messages.pot
DIR=opplevelseskort/translations
LANGS="nb nn en sv ar so pl uk ti"
step=${1:-all}
if [ "$step" = extract ] || [ "$step" = all ]; then
  pybabel extract -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 --no-location --sort-output \
    --project=opplevelseskort --copyright-holder="Opplevelseskort contributors" -o "$POT" . >/dev/null 2>&1
fi
if [ "$step" = update ] || [ "$step" = all ]; then
  for l in $LANGS; do
    if [ -f "$DIR/$l/LC_MESSAGES/messages.po" ]; then
      pybabel update -i "$POT" -d "$DIR" -l "$l" --no-fuzzy-matching --ignore-obsolete >/dev/null 2>&1
    else
      pybabel init -i "$POT" -d "$DIR" -l "$l" >/dev/null 2>&1
    fi
  done
fi
if [ "$step" = compile ] || [ "$step" = all ]; then
  pybabel compile -d "$DIR" --use-fuzzy >/dev/null 2>&1 || pybabel compile -d "$DIR" --use-fuzzy
fi
