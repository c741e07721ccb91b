"""The adapter folder that `train --config docs/examples/csv-classification.xml` writes (all-MiniLM-L6-v2,
LoRA on all-linear, PEFT key style SEQ_CLS) loaded unchanged in Python PEFT, and its probabilities compared
with tribuo-peft's `predict` output.

python cli_folder_check.py <minilm-hf-folder> <run>/adapter predict.txt preds.jsonl
where <minilm-hf-folder> is Backbone.bundled(ALL_MINILM_L6_V2).writeHfFolder(...), the run was trained on
cli-example/texts.csv with --@csv.dataPath, and preds.jsonl is `predict --model <run>/model.tribuo --input
cli-example/predict.txt --output preds.jsonl`. The recorded figures are in cli-example/results.json.
"""
import json, sys, torch, warnings
from tokenizers import Tokenizer
from transformers import BertForSequenceClassification
from peft import PeftModel
from safetensors.torch import load_file
base, adapter, texts, preds = sys.argv[1:5]
torch.set_grad_enabled(False)
meta = json.load(open(f"{adapter}/tribuo_peft.json"))
order = meta["outputs_in_head_order"]
tok = Tokenizer.from_file(f"{base}/tokenizer.json")
tok.no_padding(); tok.enable_truncation(meta["max_length"]); tok.enable_padding()
lines = [l.rstrip("\n") for l in open(texts) if l.strip()]
enc = tok.encode_batch(lines)
ids = torch.tensor([e.ids for e in enc]); mask = torch.tensor([e.attention_mask for e in enc])
types = torch.tensor([e.type_ids for e in enc])
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    m = PeftModel.from_pretrained(BertForSequenceClassification.from_pretrained(base, num_labels=len(order)), adapter)
m.eval()
h = m.base_model.model.bert(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
m3 = mask.unsqueeze(-1).float()
pooled = (h * m3).sum(1) / m3.sum(1)
sd = load_file(f"{adapter}/adapter_model.safetensors")
probs = torch.softmax(pooled @ sd["base_model.model.classifier.weight"].T + sd["base_model.model.classifier.bias"], -1)
ours = []
for l in open(preds):
    s = json.loads(l)["scores"]
    ours.append([float(str(s[k]).split("score=")[-1]) for k in order])
ours = torch.tensor(ours)
adapted = len({n.split(".lora_")[0] for n, _ in m.named_parameters() if ".lora_" in n})
print(json.dumps({"texts": len(lines), "adapted_modules_in_peft": adapted,
                  "max_abs_prob_diff": (probs - ours).abs().max().item(),
                  "same_predictions": bool((probs.argmax(-1) == ours.argmax(-1)).all()),
                  "warnings": sorted({str(w.message)[:200] for w in caught})}, indent=1))
