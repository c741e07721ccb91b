"""Checks tribuo-peft's PEFT folders in Python PEFT, and writes Python PEFT folders for tribuo-peft to read."""
import json, os, sys, tarfile
import torch
from transformers import BertModel
import peft
from peft import PeftModel, LoraConfig, AdaLoraConfig, get_peft_model
from safetensors.torch import load_file

root = sys.argv[1]
out = sys.argv[2]
torch.set_grad_enabled(False)
exp = json.load(open(os.path.join(root, "expected.json")))
ids = torch.tensor(exp["ids"]); mask = torch.tensor(exp["mask"]); types = torch.tensor(exp["types"])
m3 = mask.unsqueeze(-1).float()
report = {"peft": peft.__version__, "torch": torch.__version__, "java_to_python": {}, "python_to_java": {}}

def base():
    b = BertModel.from_pretrained(os.path.join(root, "base"), attn_implementation="eager")
    b.eval()
    return b

for name in ["lora", "dora", "adalora"]:
    folder = os.path.join(root, name)
    m = PeftModel.from_pretrained(base(), folder)
    m.eval()
    h = m(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
    java = torch.tensor(exp[name]["hidden"]).reshape(h.shape)
    hd = ((h - java).abs() * m3).max().item()
    sd = load_file(os.path.join(folder, "adapter_model.safetensors"))
    W = sd["base_model.model.classifier.weight"]; bias = sd["base_model.model.classifier.bias"]
    pooled = (h * m3).sum(1) / m3.sum(1).clamp(min=1e-9)
    logits = pooled @ W.T + bias
    ld = (logits - torch.tensor(exp[name]["logits"])).abs().max().item()
    mt = PeftModel.from_pretrained(base(), folder, is_trainable=True)
    trainable = sum(p.numel() for p in mt.parameters() if p.requires_grad)
    report["java_to_python"][name] = {"max_hidden_diff": hd, "max_logit_diff": ld, "trainable_in_peft": trainable,
                                      "trainable_in_java": exp[name]["trainable"]}

torch.manual_seed(0)
py = os.path.join(out, "py")
os.makedirs(py, exist_ok=True)
configs = {
    "py_lora": LoraConfig(r=4, lora_alpha=8, target_modules=["query", "value"], init_lora_weights=False),
    "py_dora": LoraConfig(r=4, lora_alpha=8, target_modules=["query", "value", "dense"], use_dora=True,
                          init_lora_weights=False),
    "py_adalora": AdaLoraConfig(init_r=4, target_r=2, total_step=10, lora_alpha=8, target_modules=["query", "value"]),
}
outputs = {}
for name, cfg in configs.items():
    m = get_peft_model(base(), cfg)
    if name == "py_adalora":
        pattern = {}
        for n, p in m.named_parameters():
            if "lora_E" in n:
                p.data.normal_()
                keep = torch.tensor([True, False, True, True]) if "query" in n else torch.tensor([False, True, True, False])
                p.data[~keep] = 0
                key = n.replace("base_model.model.", "", 1)
                pattern[key] = keep.tolist()
            elif "lora_B" in n:
                p.data.normal_(std=0.5)
        m.peft_config["default"].rank_pattern = pattern
    m.eval()
    h = m(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
    m.save_pretrained(os.path.join(py, name))
    outputs[name] = h.flatten().tolist()
    report["python_to_java"][name] = sorted(load_file(os.path.join(py, name, "adapter_model.safetensors")).keys())[:4]
json.dump(outputs, open(os.path.join(py, "python_hidden.json"), "w"))
json.dump(report, open(os.path.join(out, "report.json"), "w"), indent=1)
with tarfile.open(os.path.join(out, "py.tgz"), "w:gz") as t:
    t.add(py, arcname="py")
print(json.dumps(report, indent=1))

# the merged LoRA model exported from Java, in ONNX Runtime on the CPU and, if available, CUDA
import onnxruntime as ort
feeds = {"input_ids": ids.numpy(), "attention_mask": mask.numpy(), "token_type_ids": types.numpy()}
expected_logits = torch.tensor(exp["lora"]["logits"])
ort_report = {"onnxruntime": ort.__version__, "available_providers": ort.get_available_providers()}
for provider in ["CPUExecutionProvider", "CUDAExecutionProvider"]:
    if provider not in ort.get_available_providers():
        ort_report[provider] = "not available"
        continue
    s = ort.InferenceSession(os.path.join(root, "lora-merged.onnx"), providers=[provider])
    logits = torch.tensor(s.run(["logits"], feeds)[0])
    ort_report[provider] = {"session_providers": s.get_providers(),
                            "max_logit_diff_vs_java": (logits - expected_logits).abs().max().item()}
report["onnx_runtime"] = ort_report
json.dump(report, open(os.path.join(out, "report.json"), "w"), indent=1)
print(json.dumps(ort_report, indent=1))
