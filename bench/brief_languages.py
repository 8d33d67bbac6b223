"""What a Chinese brief costs against an English one, rendered from the same warehouse in the same run.

    python bench/brief_languages.py [--year 2012] [--rounds 5]

Builds a warehouse from the bundled data in a temporary folder, renders the brief in both languages
several times (alternating, after one warm-up each) and prints the median CPU and wall time per
language and the zh / en ratio (the issue asks for at most 2)."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from ngobrief import pipeline, brief as render, warehouse


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--year", type=int, default=2012)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wh = Path(tmp) / "warehouse.duckdb"
        pipeline.load_stage(pipeline.pull_stage(), wh)
        con = warehouse.connect(wh, read_only=True)
        cpu: dict[str, list[float]] = {"en": [], "zh": []}
        wall: dict[str, list[float]] = {"en": [], "zh": []}
        pages = {}
        for round_ in range(args.rounds + 1):
            for lang in ("en", "zh"):
                c0, w0 = time.process_time(), time.perf_counter()
                ctx = render.brief_context(con, args.year, lang)
                charts = {f"{c['name']}.svg": c["svg"] for c in ctx["trends"]["charts"]}
                html = render.render_html({**ctx, "chart_scheme": render.CHART_SCHEME})
                pages[lang] = render.write_pdf(html, Path(tmp) / f"brief-{lang}.pdf", charts=charts)
                if round_:  # the first round warms caches (fonts, templates) and is not counted
                    cpu[lang].append(time.process_time() - c0)
                    wall[lang].append(time.perf_counter() - w0)
        con.close()
    for lang in ("en", "zh"):
        print(f"{lang}: {pages[lang]} pages, median CPU {statistics.median(cpu[lang]):.2f} s, "
              f"wall {statistics.median(wall[lang]):.2f} s over {args.rounds} renders")
    print(f"zh / en: CPU {statistics.median(cpu['zh']) / statistics.median(cpu['en']):.2f}, "
          f"wall {statistics.median(wall['zh']) / statistics.median(wall['en']):.2f}")


if __name__ == "__main__":
    main()
