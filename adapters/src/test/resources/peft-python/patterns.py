"""LoRA rank_pattern / alpha_pattern both ways with Python PEFT.

python patterns.py <bundle> <fixtures>: <bundle> is what InteropBundle wrote (it holds lora_pattern,
written by tribuo-peft); <fixtures> is this folder, which gets py_lora_pattern (written by PEFT) and its
hidden states under expected.json's "hidden".
"""
import json, os, sys
import torch
from transformers import BertModel
import peft
from peft import PeftModel, LoraConfig, get_peft_model

bundle, fixtures = sys.argv[1], sys.argv[2]
torch.set_grad_enabled(False)


def base():
    b = BertModel.from_pretrained(os.path.join(fixtures, "base"), attn_implementation="eager")
    b.eval()
    return b


def tensors(exp):
    return torch.tensor(exp["ids"]), torch.tensor(exp["mask"]), torch.tensor(exp["types"])


report = {"peft": peft.__version__, "torch": torch.__version__}

# tribuo-peft -> PEFT
exp = json.load(open(os.path.join(bundle, "expected.json")))
ids, mask, types = tensors(exp)
m = PeftModel.from_pretrained(base(), os.path.join(bundle, "lora_pattern"))
m.eval()
h = m(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
m3 = mask.unsqueeze(-1).float()
java = torch.tensor(exp["lora_pattern"]["hidden"]).reshape(h.shape)
ranks = {n: p.shape[0] for n, p in m.named_parameters() if "lora_A" in n}
report["java_to_python"] = {"max_hidden_diff": ((h - java).abs() * m3).max().item(),
                            "lora_A_rows": ranks}

# PEFT -> tribuo-peft
fx = json.load(open(os.path.join(fixtures, "expected.json")))
ids, mask, types = tensors(fx)
torch.manual_seed(1)
cfg = LoraConfig(r=4, lora_alpha=8, target_modules=["query", "value", "intermediate.dense"], init_lora_weights=False,
                 rank_pattern={"layer.0.attention.self.query": 2, r"^encoder\.layer\.1\.intermediate\.dense": 6},
                 alpha_pattern={"value": 3.0})
m = get_peft_model(base(), cfg)
m.eval()
h = m(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
m.save_pretrained(os.path.join(fixtures, "py_lora_pattern"))
fx["hidden"]["py_lora_pattern"] = h.flatten().tolist()
with open(os.path.join(fixtures, "expected.json"), "w") as f:
    json.dump(fx, f)
report["python_to_java"] = {"lora_A_rows": {n: p.shape[0] for n, p in m.named_parameters() if "lora_A" in n}}
print(json.dumps(report, indent=1))
