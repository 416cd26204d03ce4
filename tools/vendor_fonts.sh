#!/bin/sh
# The fonts the PDFs embed (card, hand-over sheet, statement), subset from Debian's fonts-noto-core so the
# package stays small: Noto Sans for Latin (with Polish and Somali) and Cyrillic, Noto Sans Arabic, Noto Sans
# Ethiopic (Tigrinya). OFL 1.1: see opplevelseskort/core/fonts/OFL.txt. Run from the repository root.
set -e
N=/usr/share/fonts/truetype/noto
OUT=opplevelseskort/core/fonts
for w in Regular Bold; do
  pyftsubset $N/NotoSans-$w.ttf --layout-features='*' --output-file=$OUT/NotoSans-$w.ttf \
    --unicodes="U+0020-024F,U+0300-036F,U+0400-04FF,U+2000-206F,U+20AC,U+2190-21FF,U+25A0-25FF"
  pyftsubset $N/NotoSansArabic-$w.ttf --unicodes="*" --layout-features='*' --output-file=$OUT/NotoSansArabic-$w.ttf
  pyftsubset $N/NotoSansEthiopic-$w.ttf --unicodes="*" --layout-features='*' --output-file=$OUT/NotoSansEthiopic-$w.ttf
done
