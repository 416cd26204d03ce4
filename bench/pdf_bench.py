"""The family's paper: the cost of a card PDF and of hand-over sheets, with shaping, in the same run as a baseline.

Wall time and CPU time (this process's, `time.process_time`, which a busy machine does not inflate) for:
- one card PDF in bokmål (the baseline) and in Arabic and Tigrinya (shaped, with fallback fonts);
- a PDF of 20 hand-over sheets in bokmål and in Arabic (the parts an import prints are 100 sheets).
Each is run --runs times (default 3) and reported as min/median/max; the ratio is against the bokmål card (or the
bokmål sheets) of the same run.

    python -m bench.pdf_bench [--runs 3] [--sheets 20]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date


def _timed(fn, runs: int) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return walls, cpus


def _fmt(values: list[float]) -> str:
    return "/".join(f"{v * 1000:.0f}" for v in (min(values), statistics.median(values), max(values)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sheets", type=int, default=20)
    args = parser.parse_args()

    from opplevelseskort import create_app
    from opplevelseskort.cards import pdf

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.test_request_context():
        face = pdf.CardFace("Emma", date(2026, 12, 31), 1, "KQM-VVL-UEC", "https://kort.example/k/" + "a" * 43)
        pdf.card_pdf(face, "nb")  # fpdf2 and the fonts loaded once, as in a running worker

        def sheets(lang):
            one = pdf.HandOver(face, "https://kort.example/kort/" + "b" * 43 + f"?sprak={lang}", lang,
                               "Ring servicetorget på 69 19 60 00")
            return lambda: pdf.handover_pdf([one] * args.sheets)

        cases = [("card nb (baseline)", lambda: pdf.card_pdf(face, "nb"), "card"),
                 ("card ar", lambda: pdf.card_pdf(face, "ar"), "card"),
                 ("card ti", lambda: pdf.card_pdf(face, "ti"), "card"),
                 (f"{args.sheets} sheets nb (baseline)", sheets("nb"), "sheets"),
                 (f"{args.sheets} sheets ar", sheets("ar"), "sheets")]
        base: dict[str, float] = {}
        print(f"{'case':<24} {'wall ms min/med/max':>22} {'cpu ms min/med/max':>22} {'cpu ratio (median)':>19}")
        for name, fn, group in cases:
            walls, cpus = _timed(fn, args.runs)
            med = statistics.median(cpus)
            base.setdefault(group, med)
            print(f"{name:<24} {_fmt(walls):>22} {_fmt(cpus):>22} {med / base[group]:>19.2f}")


if __name__ == "__main__":
    main()
