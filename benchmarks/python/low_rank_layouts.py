"""Times the six small products of one LoRA module's training step in each operand layout PyTorch can pick.

A LoRA module on a [tokens, d] input with rank r runs h = x·Aᵀ and y += h·Bᵀ forward, and autograd adds the
gradients of B, h, A and x. Autograd chooses how to compute each gradient from the layout of the factor it
belongs to: for a transposed (column-major) Bᵀ it computes dB as (dYᵀ·h)ᵀ, for a contiguous Bᵀ as hᵀ·dY.
With r = 8 these products are tiny and MKL's speed for them depends on the layout by up to six times. This
script prints the median time of each form, and of the whole low-rank term's forward and backward (on top of
the frozen base product) with Bᵀ as a transposed view against a contiguous copy, so the choice in
`TorchScriptOps.linearLowRank` can be checked on any machine:

    python benchmarks/python/low_rank_layouts.py --threads 2

Everything runs in this one process, the forms in turn in several rounds (the machine's speed drifts).
"""
import argparse
import statistics
import time

import torch


def median_ms(fn, reps):
    for _ in range(10):
        fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=2048)
    ap.add_argument("--width", type=int, default=384)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=100)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    n, d, r = args.tokens, args.width, args.rank
    x = torch.randn(n, d)
    dy = torch.randn(n, d)
    h = torch.randn(n, r)
    a = torch.randn(r, d)
    b = torch.randn(d, r)
    bt = b.t().contiguous()
    products = {
        "dB as (dYᵀ·h)ᵀ (Bᵀ a transposed view)": lambda: (dy.t() @ h).t(),
        "dB as hᵀ·dY (Bᵀ contiguous)": lambda: h.t() @ dy,
        "dh as dY·B (Bᵀ a transposed view)": lambda: dy @ b,
        "dh as dY·(Bᵀ)ᵀ (Bᵀ contiguous)": lambda: dy @ bt.t(),
        "h = x·Aᵀ (forward)": lambda: x @ a.t(),
        "dA as (dhᵀ·x) (A row-major)": lambda: h.t() @ x,
    }

    xg = x.clone().requires_grad_()
    w = torch.randn(d, d)
    bias = torch.randn(d)
    ag = (a * 0.1).requires_grad_()
    bg = (b * 0.1).requires_grad_()

    def step(contiguous):
        def run():
            xg.grad = ag.grad = bg.grad = None
            y = torch.addmm(bias, xg, w.t())
            factor = bg.t().contiguous() if contiguous else bg.t()
            y = y.addmm_(xg @ ag.t(), factor, beta=1, alpha=2.0)
            y.backward(dy)
        return run

    def base():
        xg.grad = None
        torch.addmm(bias, xg, w.t()).backward(dy)

    terms = {"base product alone": base, "with the low-rank term, Bᵀ a transposed view": step(False),
             "with the low-rank term, Bᵀ contiguous": step(True)}
    results = {name: [] for name in list(products) + list(terms)}
    for _ in range(args.rounds):
        for name, fn in list(products.items()) + list(terms.items()):
            results[name].append(median_ms(fn, args.reps))
    print(f"torch {torch.__version__}, {args.threads} threads, x [{n}, {d}], rank {r}; median of {args.rounds} rounds "
          f"of the median of {args.reps} calls (ms), min-max over rounds")
    print()
    print("| product | ms | min-max |")
    print("|---|---|---|")
    for name, ms in results.items():
        print(f"| {name} | {statistics.median(ms):.3f} | {min(ms):.3f}-{max(ms):.3f} |")
    print()
    base_ms = statistics.median(results["base product alone"])
    for name in list(terms)[1:]:
        print(f"{name}: the low-rank term costs {statistics.median(results[name]) - base_ms:.2f} ms forward and "
              f"backward")


if __name__ == "__main__":
    main()
