"""One method's training steps in Hugging Face PEFT, for `tribuo-peft benchmark-compare`.

The Java harness writes the model (a Hugging Face folder made from the same all-MiniLM-L6-v2 weights)
and the token ids (every batch exactly batch x max-length tokens), then runs this script once per
method in its own process, interleaved with our own runs. It writes one JSON file:
the wall time of every step, the bytes of gradients and optimizer state, the peak resident memory and
the matmul rate this process reaches. The model mirrors ours: BertModel, mean pooling, dropout, one
Linear head; AdamW (decay 0.01, none on biases and LayerNorm), linear warm-up 10 % and decay, gradient
clipping at 1.0, cross-entropy.
"""
import argparse
import json
import math
import sys
import time


def vm_hwm_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return -1


def matmul_peak(torch, reps=10):
    """Best FLOP/s of a [2048, 1536] x [1536, 384] float32 matmul (the FFN output projection's shape)."""
    a = torch.randn(2048, 1536)
    b = torch.randn(1536, 384)
    for _ in range(3):
        a @ b
    best = math.inf
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2.0 * 2048 * 1536 * 384 / best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--method", required=True, choices=["full", "lora", "dora", "adalora"])
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--learning-rate", type=float, required=True)
    ap.add_argument("--autocast", choices=["none", "bf16"], default="none")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--json", required=True)
    ap.add_argument("--lockstep", action="store_true",
                    help="say @@ready when loaded, wait for a line on stdin before each step, say @@done after it")
    ap.add_argument("--profile", help="write PyTorch's operator profile (Chrome trace) of a window of steps here")
    ap.add_argument("--profile-from", type=int, default=4, help="profile the steps after this many")
    ap.add_argument("--profile-steps", type=int, default=4, help="how many steps to profile")
    args = ap.parse_args()

    import torch
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)
    import transformers
    import peft
    from torch import nn
    from transformers import BertModel, get_linear_schedule_with_warmup
    from transformers.modeling_outputs import SequenceClassifierOutput

    with open(args.data) as f:
        data = json.load(f)
    ids = torch.tensor(data["ids"], dtype=torch.long)
    labels = torch.tensor(data["labels"], dtype=torch.long)
    n = ids.shape[0]
    steps = n // args.batch_size
    if args.profile and (args.profile_from < 0 or args.profile_steps < 1
                         or args.profile_from + args.profile_steps > steps):
        raise SystemExit(f"--profile-from {args.profile_from} and --profile-steps {args.profile_steps} must name "
                         f"a window inside the run's {steps} steps (from >= 0, steps >= 1, from + steps <= {steps})")

    class Classifier(nn.Module):
        def __init__(self, bert, hidden, dropout):
            super().__init__()
            self.bert = bert
            self.dropout = nn.Dropout(dropout)
            self.classifier = nn.Linear(hidden, 2)

        def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, labels=None):
            h = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                          token_type_ids=token_type_ids).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(h.dtype)
            pooled = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
            logits = self.classifier(self.dropout(pooled))
            loss = nn.functional.cross_entropy(logits.float(), labels)
            return SequenceClassifierOutput(loss=loss, logits=logits)

    bert = BertModel.from_pretrained(args.model_dir, add_pooling_layer=False)
    model = Classifier(bert, bert.config.hidden_size, bert.config.hidden_dropout_prob)
    targets = ["query", "value"]
    if args.method in ("lora", "dora"):
        cfg = peft.LoraConfig(r=8, lora_alpha=16, lora_dropout=0.1, target_modules=targets,
                              use_dora=args.method == "dora", modules_to_save=["classifier"])
        model = peft.get_peft_model(model, cfg)
    elif args.method == "adalora":
        cfg = peft.AdaLoraConfig(init_r=12, target_r=8, lora_alpha=16, lora_dropout=0.0, target_modules=targets,
                                 tinit=steps // 10, tfinal=steps // 5, deltaT=10, total_step=steps,
                                 modules_to_save=["classifier"])
        model = peft.get_peft_model(model, cfg)
    model.train()

    named = [(k, p) for k, p in model.named_parameters() if p.requires_grad]
    decay = [p for k, p in named if not (k.endswith(".bias") or "LayerNorm" in k)]
    no_decay = [p for k, p in named if k.endswith(".bias") or "LayerNorm" in k]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.learning_rate)
    sched = get_linear_schedule_with_warmup(opt, math.ceil(steps * 0.1), steps)
    trainable = [p for _, p in named]

    mask = torch.ones(args.batch_size, ids.shape[1], dtype=torch.long)
    types = torch.zeros(args.batch_size, ids.shape[1], dtype=torch.long)
    step_seconds = []
    losses = []
    state_bytes = 0
    if args.lockstep:
        print("@@ready", flush=True)
    profiler = None
    for s in range(steps):
        if args.profile and s == args.profile_from:
            profiler = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], record_shapes=True)
            profiler.__enter__()
        if args.lockstep and not sys.stdin.readline():
            raise SystemExit("benchmark-compare closed the turn-taking pipe")
        if s == 0:
            # in this process's first turn and again in its last, while the others of its group wait (as our side
            # measures it: in the first turn alone the others may still be settling after loading)
            peak_flops = matmul_peak(torch)
        if s == steps - 1 and s > 0:
            peak_flops = max(peak_flops, matmul_peak(torch))
        batch = ids[s * args.batch_size:(s + 1) * args.batch_size]
        y = labels[s * args.batch_size:(s + 1) * args.batch_size]
        t = time.perf_counter()
        if args.autocast == "bf16":
            with torch.autocast("cpu", dtype=torch.bfloat16):
                out = model(input_ids=batch, attention_mask=mask, token_type_ids=types, labels=y)
        else:
            out = model(input_ids=batch, attention_mask=mask, token_type_ids=types, labels=y)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        opt.step()
        sched.step()
        if args.method == "adalora":
            model.base_model.update_and_allocate(s + 1)
        if s == steps - 1:
            state_bytes = sum(p.grad.numel() * p.grad.element_size() for p in trainable if p.grad is not None)
            for st in opt.state.values():
                state_bytes += sum(v.numel() * v.element_size() for v in st.values()
                                   if torch.is_tensor(v) and v.dim() > 0)
        opt.zero_grad(set_to_none=True)
        step_seconds.append(time.perf_counter() - t)
        losses.append(float(out.loss))
        if profiler is not None and s + 1 == args.profile_from + args.profile_steps:
            profiler.__exit__(None, None, None)
            profiler.export_chrome_trace(args.profile)
            profiler = None
        if args.lockstep:
            print("@@done", flush=True)

    result = {
        "side": "python-peft",
        "method": args.method,
        "precision": "bf16-autocast" if args.autocast == "bf16" else "fp32",
        "batch": args.batch_size,
        "tokens": int(ids.shape[1]),
        "steps": steps,
        "stepSeconds": step_seconds,
        "losses": losses,
        "trainableValues": sum(p.numel() for p in trainable),
        "gradAndOptimizerBytes": state_bytes,
        "peakRssBytes": vm_hwm_bytes(),
        "matmulPeakFlops": peak_flops,
        "threads": torch.get_num_threads(),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__},
        "attention": getattr(bert.config, "_attn_implementation", "unknown"),
    }
    with open(args.json, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
