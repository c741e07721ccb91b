"""Where the busiest threads of a sampled process spend their time, from `perf script` output.

Reads the text of `perf script -F tid,time,ip,sym,dso`, keeps the samples of the last --window seconds (the
training steps, not the loading), and prints for the two threads with the most samples (the thread that calls
libtorch and its OpenMP worker) the share of their samples in each kind of code: MKL's sgemm (kernel and
packing), the OpenMP runtime (mostly a worker waiting at a barrier), libtorch's other kernels, our JVM code
(JIT-compiled Java, the JVM itself), the Linux kernel and the rest. Usage:

    perf record -F 499 -o lora.perf -- java -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit ... step-benchmark ...
    perf script -i lora.perf -F tid,time,ip,sym,dso > lora.txt
    python benchmarks/perf/thread_shares.py lora.txt --window 33 --step-json lora.json

With --step-json (the step-benchmark's own output) it also prints the median step after the warm-up and how
much of it the calling thread (the one running JVM code) spends in MKL's sgemm and in everything else.
"""
import argparse
import collections
import json
import re
import statistics

LINE = re.compile(r"\s*(\d+)\s+([\d.]+):\s+\S+\s+(.*?)\s*\(([^()]*)\)\s*$")
SGEMM = "MKL sgemm (kernel and packing)"
JVM = "JVM: JIT-compiled Java, the JVM, DJL's JNI"


def kind(sym, dso):
    name = dso.rsplit("/", 1)[-1]
    if "sgemm" in sym:
        return SGEMM
    if "gomp" in name or "iomp" in name:
        return "OpenMP runtime"
    if name.startswith("libtorch") or name.startswith("libc10"):
        return "other libtorch kernels"
    if name.startswith("perf-") or name.startswith("libjvm") or "djl" in name:
        return JVM
    if "kernel" in name:
        return "Linux kernel"
    return "other (" + name + ")" if name else "other"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("script_output")
    ap.add_argument("--window", type=float, required=True, help="seconds before the last sample to count")
    ap.add_argument("--top", type=int, default=6)
    ap.add_argument("--step-json", help="the step-benchmark JSON of the same run")
    ap.add_argument("--warmup", type=int, default=4, help="steps left out of the median (default 4)")
    args = ap.parse_args()
    rows = []
    with open(args.script_output, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if m:
                rows.append((int(m.group(1)), float(m.group(2)), m.group(3), m.group(4)))
    if not rows:
        raise SystemExit(args.script_output + " holds no samples in the format of perf script -F tid,time,ip,sym,dso")
    end = max(r[1] for r in rows)
    kept = [r for r in rows if r[1] > end - args.window]
    threads = collections.Counter(r[0] for r in kept).most_common(2)
    shares = []
    for tid, count in threads:
        kinds = collections.Counter(kind(r[2], r[3]) for r in kept if r[0] == tid)
        shares.append({k: 100.0 * v / count for k, v in kinds.items()})
    order = sorted({k for s in shares for k in s}, key=lambda k: -sum(s.get(k, 0) for s in shares))
    print(f"{len(kept)} samples in the last {args.window:g} s; share of each of the two busiest threads' samples")
    print()
    print("| kind of code | " + " | ".join(f"thread {tid} ({count} samples)" for tid, count in threads) + " |")
    print("|---|" + "---|" * len(threads))
    for k in order[:args.top]:
        print(f"| {k} | " + " | ".join(f"{s.get(k, 0):.1f} %" for s in shares) + " |")
    if args.step_json:
        with open(args.step_json, encoding="utf-8") as f:
            steps = json.load(f)["stepSeconds"][args.warmup:]
        median = statistics.median(steps)
        caller = max(range(len(shares)), key=lambda i: shares[i].get(JVM, 0))
        gemm = shares[caller].get(SGEMM, 0) / 100 * median
        print()
        print(f"median step {median:.3f} s (after {args.warmup} warm-up steps); of it, on the calling thread "
              f"{threads[caller][0]}: MKL sgemm {gemm:.3f} s, everything else {median - gemm:.3f} s")


if __name__ == "__main__":
    main()
