"""Every target form both ways with Python PEFT.

python forms.py <bundle> <fixtures>: <bundle> is what InteropBundle wrote (one tribuo-peft folder per entry of
PeftTargetForms); <fixtures> is this folder. For each of our folders: PeftModel.from_pretrained on the same random
BERT, unchanged, and the max |diff| of last_hidden_state (and of the logits of the saved head) against what
tribuo-peft computed; the results go to <fixtures>/interop-results.json and each folder's adapter_config.json to
<fixtures>/ours/<form>/ (PeftConfigTypesTest checks them). Then PEFT writes folders for the string and int forms
(py_lora_all_linear, py_lora_regex, py_lora_layer_int) with their hidden states under expected.json's "hidden",
for PythonPeftFoldersTest.
"""
import json, os, shutil, sys, warnings
import torch
import transformers
from transformers import BertModel, BertForSequenceClassification
import peft
from peft import PeftModel, LoraConfig, get_peft_model
from safetensors.torch import load_file

bundle, fixtures = sys.argv[1], sys.argv[2]
torch.set_grad_enabled(False)
base_dir = os.path.join(fixtures, "base")


def base(task_type):
    if task_type == "SEQ_CLS":
        b = BertForSequenceClassification.from_pretrained(base_dir, num_labels=2, attn_implementation="eager")
    else:
        b = BertModel.from_pretrained(base_dir, attn_implementation="eager")
    b.eval()
    return b


def encoder(m, task_type):
    return m.base_model.model.bert if task_type == "SEQ_CLS" else m.base_model.model


exp = json.load(open(os.path.join(bundle, "expected.json")))
ids, mask, types = (torch.tensor(exp[k]) for k in ("ids", "mask", "types"))
m3 = mask.unsqueeze(-1).float()
results = {"peft": peft.__version__, "transformers": transformers.__version__, "torch": torch.__version__,
           "java_to_python": {}, "python_to_java": {}}
for name in [k for k in exp if k not in ("ids", "mask", "types")]:
    folder = os.path.join(bundle, name)
    cfg = json.load(open(os.path.join(folder, "adapter_config.json")))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = PeftModel.from_pretrained(base(cfg["task_type"]), folder)
    m.eval()
    h = encoder(m, cfg["task_type"])(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
    java = torch.tensor(exp[name]["hidden"]).reshape(h.shape)
    sd = load_file(os.path.join(folder, "adapter_model.safetensors"))
    pooled = (h * m3).sum(1) / m3.sum(1).clamp(min=1e-9)
    logits = pooled @ sd["base_model.model.classifier.weight"].T + sd["base_model.model.classifier.bias"]
    adapted = sorted({n.split(".lora_")[0] for n, _ in m.named_parameters() if ".lora_" in n})
    results["java_to_python"][name] = {
        "target_modules": cfg["target_modules"],
        "layers_to_transform": cfg.get("layers_to_transform"),
        "adapted_in_peft": len(adapted),
        "max_hidden_diff": ((h - java).abs() * m3).max().item(),
        "max_logit_diff": (logits - torch.tensor(exp[name]["logits"])).abs().max().item(),
        "warnings": sorted({str(w.message)[:160] for w in caught if "missing" in str(w.message).lower()}),
    }
    os.makedirs(os.path.join(fixtures, "ours", name), exist_ok=True)
    shutil.copy(os.path.join(folder, "adapter_config.json"), os.path.join(fixtures, "ours", name))
    print(name, results["java_to_python"][name]["max_hidden_diff"], flush=True)

fx = json.load(open(os.path.join(fixtures, "expected.json")))
ids, mask, types = (torch.tensor(fx[k]) for k in ("ids", "mask", "types"))
torch.manual_seed(2)
configs = {
    "py_lora_all_linear": LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", init_lora_weights=False),
    "py_lora_regex": LoraConfig(r=4, lora_alpha=8, init_lora_weights=False,
                                target_modules=r"encoder\.layer\.\d+\.(attention\.self\.key|output\.dense)"),
    "py_lora_layer_int": LoraConfig(r=4, lora_alpha=8, target_modules=["query", "value"], layers_to_transform=1,
                                    layers_pattern="layer", init_lora_weights=False),
}
for name, cfg in configs.items():
    m = get_peft_model(base(None), cfg)
    m.eval()
    h = m(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
    m.save_pretrained(os.path.join(fixtures, name))
    os.remove(os.path.join(fixtures, name, "README.md"))
    fx["hidden"][name] = [round(v, 7) for v in h.flatten().tolist()]
    saved = json.load(open(os.path.join(fixtures, name, "adapter_config.json")))
    results["python_to_java"][name] = {"target_modules": saved["target_modules"],
                                       "layers_to_transform": saved["layers_to_transform"],
                                       "adapted_in_peft": len({n.split(".lora_")[0] for n, _ in m.named_parameters()
                                                               if ".lora_" in n})}
with open(os.path.join(fixtures, "expected.json"), "w") as f:
    json.dump(fx, f)
with open(os.path.join(fixtures, "interop-results.json"), "w") as f:
    json.dump(results, f, indent=1)
print(json.dumps(results, indent=1))
