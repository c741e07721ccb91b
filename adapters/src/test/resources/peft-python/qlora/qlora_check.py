"""Checks a QLoRA adapter folder written by tribuo-peft in Python PEFT, on the NF4 + double-quantized base it trained on.

usage: python qlora_check.py EXPORT_DIR RESULTS.json

EXPORT_DIR comes from `java -jar app/target/tribuo-peft.jar qlora-benchmark --part peft-export --model M --output DIR`:
  peft/                  the adapter exactly as our PEFT writer wrote it (adapter_config.json, adapter_model.safetensors,
                         tribuo_peft.json), loaded here with PeftModel.from_pretrained unchanged;
  base/config.json       the BERT configuration;
  base/nf4.safetensors   the base as we store it: float32 embeddings, LayerNorms and biases, and for each Linear weight
                         its packed 4-bit codes, 8-bit scale codes, per-256 absmax and offset (bytes as float32);
  java.safetensors       token ids, attention mask and token types of held-out IMDB reviews, and our last hidden states
                         and logits for them.
bitsandbytes has no wheel here, so its NF4 + double-quantization dequantization is written out below from its rules
(the NF4 code book of get_4bit_type("nf4"); create_dynamic_map(signed=True) for the scale codes; two codes per byte,
the first in the high nibble; weight = nf4[code] * (dynamic[scale_code] * absmax[block // 256] + offset), in float32)
and the dequantized weights are loaded into a Hugging Face BertModel, under the adapter.
"""
import json, os, sys, warnings
import numpy as np
import torch
import transformers
import peft
from peft import PeftConfig, PeftModel
from safetensors import safe_open
from safetensors.numpy import load_file
from transformers import BertConfig, BertModel

export, results_path = sys.argv[1:]
torch.set_grad_enabled(False)

# bitsandbytes.functional.get_4bit_type("nf4")
NF4 = np.array([-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
                -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
                0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
                0.7229568362236023, 1.0], dtype=np.float32)


def create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8):
    """bitsandbytes.functional.create_dynamic_map, the code book of the double-quantized scales."""
    data = []
    non_sign_bits = total_bits - 1
    additional_items = 2 ** (non_sign_bits - max_exponent_bits) - 1
    for i in range(max_exponent_bits):
        fraction_items = int(2 ** (i + non_sign_bits - max_exponent_bits) + 1 if signed
                             else 2 ** (i + non_sign_bits - max_exponent_bits + 1) + 1)
        boundaries = torch.linspace(0.1, 1, fraction_items, dtype=torch.float32)
        means = (boundaries[:-1] + boundaries[1:]) / 2.0
        data += ((10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
        if signed:
            data += (-(10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
    assert additional_items == 0
    data.append(0)
    data.append(1.0)
    assert len(data) == 2 ** total_bits
    data.sort()
    return torch.tensor(data, dtype=torch.float32).numpy()


DYNAMIC = create_dynamic_map()

with safe_open(os.path.join(export, "base", "nf4.safetensors"), "np") as f:
    meta = f.metadata()
stored = load_file(os.path.join(export, "base", "nf4.safetensors"))
block = int(meta["block_size"])
group = int(meta["scale_group"])
assert meta["quant_type"] == "nf4" and meta["double_quant"] == "true", meta


def dequantize(name):
    out_f, in_f = (int(x) for x in meta[name + ".shape"].split(","))
    packed = stored[name + ".codes"].astype(np.uint8)
    codes = np.stack([packed >> 4, packed & 0x0F], axis=-1).reshape(-1)
    scale_codes = stored[name + ".scale_codes"].astype(np.uint8)
    absmax2 = stored[name + ".absmax"].astype(np.float32)
    offset = np.float32(stored[name + ".offset"][0])
    idx = np.arange(scale_codes.size) // group
    scales = (DYNAMIC[scale_codes] * absmax2[idx]).astype(np.float32) + offset
    w = NF4[codes].reshape(-1, block) * scales.astype(np.float32)[:, None]
    return torch.from_numpy(w.astype(np.float32).reshape(out_f, in_f))


config = BertConfig.from_pretrained(os.path.join(export, "base"), attn_implementation="eager")
base = BertModel(config, add_pooling_layer=False)
state = {}
linears = 0
for name in base.state_dict():
    if name.endswith(".weight") and (name + ".codes") in stored:
        state[name] = dequantize(name)
        linears += 1
    elif name in stored:
        state[name] = torch.from_numpy(stored[name].astype(np.float32))
missing, unexpected = base.load_state_dict(state, strict=False)
missing = [k for k in missing if not k.endswith("position_ids")]
assert not missing and not unexpected, (missing, unexpected)
base.eval()

folder = os.path.join(export, "peft")
cfg = PeftConfig.from_pretrained(folder)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    model = PeftModel.from_pretrained(base, folder)
model.eval()
adapted = sorted({n.split(".lora_A")[0].replace("base_model.model.", "") for n, _ in model.named_parameters()
                  if ".lora_A." in n})

java = load_file(os.path.join(export, "java.safetensors"))
ids = torch.from_numpy(java["input_ids"]).long()
mask = torch.from_numpy(java["attention_mask"]).long()
types = torch.from_numpy(java["token_type_ids"]).long()
h = model(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
m3 = mask.unsqueeze(-1).float()
ours = torch.from_numpy(java["last_hidden_state"]).reshape(h.shape)
hidden_diff = ((h - ours).abs() * m3).max().item()
# controls, to show the comparison has teeth: the same base without the adapter, and the base dequantized with the
# two nibbles of each byte swapped
with model.disable_adapter():
    plain = model(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
without_adapter_diff = ((plain - ours).abs() * m3).max().item()
swapped = BertModel(config, add_pooling_layer=False)
swapped_state = dict(state)
for name in list(swapped_state):
    if (name + ".codes") in stored:
        w = swapped_state[name].reshape(-1, 2)
        swapped_state[name] = w.flip(-1).reshape(swapped_state[name].shape)
swapped.load_state_dict(swapped_state, strict=False)
swapped.eval()
swapped_model = PeftModel.from_pretrained(swapped, folder)
hs = swapped_model(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
swapped_nibbles_diff = ((hs - ours).abs() * m3).max().item()
head = load_file(os.path.join(folder, "adapter_model.safetensors"))
W = torch.from_numpy(head["base_model.model.classifier.weight"])
b = torch.from_numpy(head["base_model.model.classifier.bias"])
pooled = (h * m3).sum(1) / m3.sum(1).clamp(min=1e-9)
logits = pooled @ W.T + b
java_logits = torch.from_numpy(java["logits"])
logit_diff = (logits - java_logits).abs().max().item()
sidecar = json.load(open(os.path.join(folder, "tribuo_peft.json")))
raw_config = json.load(open(os.path.join(folder, "adapter_config.json")))

results = {
    "peft": peft.__version__, "transformers": transformers.__version__, "torch": torch.__version__,
    "reviews": int(ids.shape[0]), "tokens_compared": int(mask.sum().item()),
    "dequantized_linears": linears,
    "peft_config_class": type(cfg).__name__, "peft_type": str(cfg.peft_type.value if hasattr(cfg.peft_type, "value")
                                                                   else cfg.peft_type),
    "r": cfg.r, "lora_alpha": cfg.lora_alpha, "target_modules": sorted(cfg.target_modules),
    "adapter_config_keys_not_in_peft": sorted(k for k in raw_config if not hasattr(cfg, k)),
    "adapter_config_mentions_quantization": any("quant" in k for k in raw_config),
    "adapted_modules_in_peft": len(adapted),
    "load_warnings": [str(w.message)[:200] for w in caught],
    "sidecar_quantization": sidecar.get("quantization"),
    "max_hidden_diff": hidden_diff, "max_logit_diff": logit_diff,
    "control_max_hidden_diff_without_adapter": without_adapter_diff,
    "control_max_hidden_diff_swapped_nibbles": swapped_nibbles_diff,
    "same_predicted_class": bool((logits.argmax(-1) == java_logits.argmax(-1)).all().item()),
}
with open(results_path, "w") as f:
    json.dump(results, f, indent=2)
print(json.dumps(results, indent=2))
