"""Prompt tuning both ways with Python PEFT 0.21 on the small random BERT in base/.

python prompt_tuning.py <fixtures> [<ours>]: PEFT writes py_prompt (PROMPT_TUNING, 3 virtual tokens, random init,
FEATURE_EXTRACTION on BertModel) and records its last hidden states at the real token positions under
expected_prompt.json's "hidden"; PromptTuningTest loads it here. With <ours> (a folder our writer wrote, plus
its expected.json holding our hidden states), PeftModel.from_pretrained loads it on BertModel and the max |diff|
at the real token positions goes to <fixtures>/prompt-interop-results.json.
"""
import json, os, sys
import torch
import peft
from transformers import BertModel
from peft import PeftModel, PromptTuningConfig, get_peft_model

fixtures = sys.argv[1]
torch.set_grad_enabled(False)
torch.manual_seed(11)
base_dir = os.path.join(fixtures, "base")
exp = json.load(open(os.path.join(fixtures, "expected.json")))
ids, mask = torch.tensor(exp["ids"]), torch.tensor(exp["mask"])
m3 = mask.unsqueeze(-1).float()


def base():
    b = BertModel.from_pretrained(base_dir, attn_implementation="eager")
    b.eval()
    return b


def real_positions(m, n_virtual):
    # PEFT prepends the virtual tokens, so the real tokens are the last positions
    return m(input_ids=ids, attention_mask=mask).last_hidden_state[:, n_virtual:, :]


if len(sys.argv) == 2:
    cfg = PromptTuningConfig(task_type="FEATURE_EXTRACTION", num_virtual_tokens=3)
    m = get_peft_model(base(), cfg)
    m.eval()
    h = real_positions(m, 3)
    out = os.path.join(fixtures, "py_prompt")
    m.save_pretrained(out)
    json.dump({"ids": exp["ids"], "mask": exp["mask"], "hidden": [round(v, 7) for v in h.flatten().tolist()]},
              open(os.path.join(fixtures, "expected_prompt.json"), "w"))
else:
    ours = sys.argv[2]
    java = json.load(open(os.path.join(ours, "expected.json")))
    m = PeftModel.from_pretrained(base(), ours)
    m.eval()
    n = m.peft_config["default"].num_virtual_tokens
    h = real_positions(m, n)
    diff = ((h - torch.tensor(java["hidden"]).reshape(h.shape)).abs() * m3).max().item()
    json.dump({"peft": peft.__version__, "max_hidden_diff": diff, "num_virtual_tokens": n},
              open(os.path.join(fixtures, "prompt-interop-results.json"), "w"), indent=1)
    print("ours loaded in PEFT: max |diff| =", diff)
