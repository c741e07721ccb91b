"""VeRA interop with Python PEFT: checks tribuo-peft's VeRA folder (ours_vera, written by VeraInteropBundle) in
PEFT, and writes PEFT's own VeRA folder (py_vera) with the hidden states PEFT computes, for tribuo-peft to read.
Usage: python vera.py <peft-python dir>   (the dir holding base/ and expected.json)."""
import json, os, sys
import torch
from transformers import BertModel
import peft
from peft import PeftModel, VeraConfig, get_peft_model

root = sys.argv[1]
here = os.path.join(root, "vera")
torch.set_grad_enabled(False)
exp = json.load(open(os.path.join(root, "expected.json")))
ids = torch.tensor(exp["ids"]); mask = torch.tensor(exp["mask"]); types = torch.tensor(exp["types"])
m3 = mask.unsqueeze(-1).float()

def base():
    b = BertModel.from_pretrained(os.path.join(root, "base"), attn_implementation="eager")
    b.eval()
    return b

report = {"peft": peft.__version__, "torch": torch.__version__}

# ours -> PEFT
m = PeftModel.from_pretrained(base(), os.path.join(here, "ours_vera"))
m.eval()
h = m(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
java = torch.tensor(json.load(open(os.path.join(here, "ours_vera.json")))).reshape(h.shape)
report["ours_in_peft"] = {
    "max_hidden_diff": ((h - java).abs() * m3).max().item(),
    "vera_layers_in_peft": sum(1 for _, mod in m.named_modules() if type(mod).__name__ == "Linear"
                               and type(mod).__module__.startswith("peft.tuners.vera")),
    "trainable_in_peft": sum(p.numel() for n, p in PeftModel.from_pretrained(base(), os.path.join(here, "ours_vera"),
                                                                               is_trainable=True).named_parameters()
                             if p.requires_grad),
}

# PEFT -> ours: random lambdas so the update is far from zero; projections saved (save_projection=True)
torch.manual_seed(0)
cfg = VeraConfig(r=8, target_modules=["query", "value", "dense"], projection_prng_key=3, save_projection=True)
pm = get_peft_model(base(), cfg)
for n, p in pm.named_parameters():
    if "vera_lambda_" in n:
        p.data.uniform_(-1, 1)
pm.eval()
h = pm(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
pm.save_pretrained(os.path.join(here, "py_vera"))
json.dump(h.flatten().tolist(), open(os.path.join(here, "py_vera.json"), "w"))
report["py_vera_trainable"] = sum(p.numel() for p in pm.parameters() if p.requires_grad)
json.dump(report, open(os.path.join(here, "vera-results.json"), "w"), indent=1)
print(json.dumps(report, indent=1))
