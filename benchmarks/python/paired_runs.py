"""Held-out accuracy of `train --output` runs next to a `quality` work folder's runs, paired by seed.

    python benchmarks/python/paired_runs.py QUALITY_WORK_DIR DATASET LABEL=RUN_DIR[,RUN_DIR...] [LABEL=...]

Each RUN_DIR is a folder written by `tribuo-peft train --output` (its metrics.json and provenance.json); the seed
of a run is its trainer's seed, read from provenance.json. For every label the script prints the per-seed
accuracies, their mean with the half width of the 95 % confidence interval (Student's t, n - 1 degrees of
freedom), and the accuracy difference to every method of QUALITY_WORK_DIR/runs.csv on the same dataset, paired by
seed (the same seed draws the same IMDB slices in both commands when the slice settings agree). Only the standard
library: no scipy on the reference venv, so the t quantiles are tabulated (up to 10 seeds).
"""
import csv
import json
import math
import statistics
import sys

# t(0.975, df) for df = 1..9 (the values Apache Commons Math's TDistribution gives)
T975 = [12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157]


def interval(values):
    n = len(values)
    mean = statistics.fmean(values)
    if n < 2:
        return mean, float("nan")
    if n - 1 > len(T975):
        raise SystemExit(f"{n} values: the tabulated t quantiles stop at {len(T975) + 1}")
    return mean, T975[n - 2] * statistics.stdev(values) / math.sqrt(n)


def run_seed(run_dir):
    prov = json.load(open(f"{run_dir}/provenance.json"))
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("key") == "seed" and "value" in node:
                found.append(node["value"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(prov)
    seeds = {int(s) for s in found}
    if len(seeds) != 1:
        raise SystemExit(f"{run_dir}/provenance.json: expected one seed (trainer and data sources agree), found "
                         f"{sorted(seeds)}")
    return seeds.pop()


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__)
    work, dataset, groups = argv[0], argv[1], argv[2:]
    quality = {}
    with open(f"{work}/runs.csv") as f:
        for row in csv.DictReader(f):
            if row["dataset"] == dataset:
                quality.setdefault(row["method"], {})[int(row["seed"])] = float(row["accuracy"])
    for group in groups:
        label, _, dirs = group.partition("=")
        acc = {}
        for d in dirs.split(","):
            acc[run_seed(d)] = json.load(open(f"{d}/metrics.json"))["test"]["accuracy"]
        mean, half = interval(list(acc.values()))
        per_seed = ", ".join(f"{s}: {a:.4f}" for s, a in sorted(acc.items()))
        print(f"{label}: accuracy {mean:.4f} ± {half:.4f} over {len(acc)} seeds ({per_seed})")
        for method, by_seed in quality.items():
            diffs = [acc[s] - by_seed[s] for s in sorted(acc) if s in by_seed]
            if len(diffs) >= 2:
                m, h = interval(diffs)
                print(f"  {label} - {method}: {m:+.4f} ± {h:.4f} (paired over {len(diffs)} seeds)")


if __name__ == "__main__":
    main(sys.argv[1:])
