"""Size of the trained update of each adapted matrix, from the PEFT adapter folders `train --output` writes.

    python benchmarks/python/adapter_update_norms.py RUN_DIR [RUN_DIR ...]

For LoRA ΔW = (alpha / r) · B · A; for AdaLoRA ΔW = (alpha / init_r) · Q · diag(Λ) · P (tribuo-peft's and PEFT's
scaling, ranknum = the initial rank). Prints the mean and largest Frobenius norm over the adapted matrices, and for
AdaLoRA the mean |Λ| and the mean row norm of P and column norm of Q, next to the run's held-out metrics.
"""
import json
import sys

import numpy as np
from safetensors.numpy import load_file


def main(dirs):
    for d in dirs:
        cfg = json.load(open(f"{d}/adapter/adapter_config.json"))
        t = load_file(f"{d}/adapter/adapter_model.safetensors")
        ada = cfg["peft_type"] == "ADALORA"
        norms, extra = [], ""
        for k in sorted(t):
            if ada and k.endswith("lora_A"):
                a, e, b = t[k], t[k[:-1] + "E"], t[k[:-1] + "B"]
                norms.append(np.linalg.norm(cfg["lora_alpha"] / cfg["init_r"] * b @ (a * e)))
            elif not ada and k.endswith("lora_A.weight"):
                a, b = t[k], t[k.replace("lora_A", "lora_B")]
                norms.append(np.linalg.norm(cfg["lora_alpha"] / cfg["r"] * b @ a))
        if ada:
            e = np.concatenate([np.abs(t[k]).ravel() for k in t if k.endswith("lora_E")])
            p = np.concatenate([np.linalg.norm(t[k], axis=1) for k in t if k.endswith("lora_A")])
            q = np.concatenate([np.linalg.norm(t[k], axis=0) for k in t if k.endswith("lora_B")])
            extra = f"  mean |E| {e.mean():.4f}  P row norm {p.mean():.3f}  Q column norm {q.mean():.3f}"
        m = json.load(open(f"{d}/metrics.json"))["test"]
        print(f"{d.rstrip('/').split('/')[-1]:20s} {cfg['peft_type']:8s} mean ||dW||_F {np.mean(norms):.4f} "
              f"max {np.max(norms):.4f}  accuracy {m['accuracy']:.4f}  macro-F1 {m['macro_f1']:.4f}{extra}")


if __name__ == "__main__":
    main(sys.argv[1:])
