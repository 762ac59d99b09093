"""``make bench``: every benchmark, then ``bench/results/summary.json`` with the headline figures.

>>> sorted(HEADLINES)[:2]
['decode_ratio_vs_bare_llama', 'delete_s_100k']
"""

from __future__ import annotations

import json

from bench import bench_first_words, bench_generation, bench_ingest, bench_search

HEADLINES = ("ingest_speedup_vs_naive", "ingest_peak_rss_mb", "search_p50_ms_100k", "decode_ratio_vs_bare_llama",
             "ttft_warm_over_cold", "delete_s_100k", "quotes_p50_s", "ttft_p50_s_budget_8k", "ttft_p50_s_fixed_24_8k")


def main() -> dict:
    results = {**bench_ingest.main([]), **bench_search.main([]), **bench_generation.main([]),
               **bench_first_words.main([])}
    summary = {key: results[key] for key in HEADLINES}
    (bench_ingest.RESULTS / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()
