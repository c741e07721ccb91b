"""Prompt tuning and prefix tuning both ways with Python PEFT 0.21 on the small random BERT in ../base.

python prompt_learning.py <this folder>: PEFT writes py_prompt (PROMPT_TUNING, 3 virtual tokens, random init),
py_prefix (PREFIX_TUNING, 3 virtual tokens) and py_prefix_proj (PREFIX_TUNING trained through the projection,
encoder_hidden_size 8, which PEFT saves as the projected keys and values), all FEATURE_EXTRACTION on BertModel,
and py_prompt_seq_cls (SEQ_CLS on BertForSequenceClassification, with the head under modules_to_save); the last
hidden states at the real token positions go to expected.json under each folder's name, for
PromptLearningFoldersTest.

python prompt_learning.py <this folder> <bundle>: every folder of <bundle> (written by PromptLearningFoldersTest,
each with our hidden states in its expected.json) is loaded with PeftModel.from_pretrained on BertModel
(BertForSequenceClassification for SEQ_CLS folders, whose head must load from modules_to_save), and the max |diff|
at the real token positions (and of the head) goes to <this folder>/interop-results.json.
"""
import json, os, sys, warnings
import torch
import peft
from transformers import BertModel, BertForSequenceClassification
from peft import PeftModel, PromptTuningConfig, PrefixTuningConfig, get_peft_model

here = sys.argv[1]
warnings.simplefilter("ignore")
torch.set_grad_enabled(False)
base_dir = os.path.join(here, "..", "base")
shared = json.load(open(os.path.join(here, "..", "expected.json")))
ids, mask = torch.tensor(shared["ids"]), torch.tensor(shared["mask"])
m3 = mask.unsqueeze(-1).float()


def bert():
    b = BertModel.from_pretrained(base_dir, attn_implementation="eager")
    b.eval()
    return b


def real_positions(m, cfg):
    h = m(input_ids=ids, attention_mask=mask).last_hidden_state
    # prompt tuning prepends its virtual tokens to the output; prefix tuning's live in the attention cache only
    return h[:, cfg.num_virtual_tokens:, :] if cfg.peft_type == "PROMPT_TUNING" else h


if len(sys.argv) == 2:
    made = {"ids": shared["ids"], "mask": shared["mask"], "hidden": {}}
    configs = {
        "py_prompt": PromptTuningConfig(task_type="FEATURE_EXTRACTION", num_virtual_tokens=3),
        "py_prefix": PrefixTuningConfig(task_type="FEATURE_EXTRACTION", num_virtual_tokens=3),
        "py_prefix_proj": PrefixTuningConfig(task_type="FEATURE_EXTRACTION", num_virtual_tokens=3,
                                             prefix_projection=True, encoder_hidden_size=8),
    }
    for i, (name, cfg) in enumerate(configs.items()):
        torch.manual_seed(11 + i)
        m = get_peft_model(bert(), cfg)
        m.eval()
        made["hidden"][name] = [round(v, 7) for v in real_positions(m, cfg).flatten().tolist()]
        m.save_pretrained(os.path.join(here, name))
    torch.manual_seed(20)
    seq = BertForSequenceClassification.from_pretrained(base_dir, num_labels=2, attn_implementation="eager")
    m = get_peft_model(seq, PromptTuningConfig(task_type="SEQ_CLS", num_virtual_tokens=2))
    m.eval()
    h = m.base_model.bert(inputs_embeds=torch.cat([m.get_prompt(ids.shape[0]), m.word_embeddings(ids)], 1),
                          attention_mask=torch.cat([torch.ones(ids.shape[0], 2, dtype=mask.dtype), mask], 1))
    made["hidden"]["py_prompt_seq_cls"] = [round(v, 7) for v in h.last_hidden_state[:, 2:, :].flatten().tolist()]
    m.save_pretrained(os.path.join(here, "py_prompt_seq_cls"))
    for name in list(configs) + ["py_prompt_seq_cls"]:
        os.remove(os.path.join(here, name, "README.md"))
    json.dump(made, open(os.path.join(here, "expected.json"), "w"))
else:
    bundle = sys.argv[2]
    results = {"peft": peft.__version__, "java_to_python": {}}
    for name in sorted(os.listdir(bundle)):
        folder = os.path.join(bundle, name)
        java = json.load(open(os.path.join(folder, "expected.json")))
        seq_cls = json.load(open(os.path.join(folder, "adapter_config.json")))["task_type"] == "SEQ_CLS"
        entry = {}
        if seq_cls:
            # the head must come back from modules_to_save, not stay BertForSequenceClassification's random one
            seq = BertForSequenceClassification.from_pretrained(base_dir, num_labels=2, attn_implementation="eager")
            m = PeftModel.from_pretrained(seq, folder)
            m.eval()
            cfg = m.peft_config["default"]
            n = cfg.num_virtual_tokens
            h = m.base_model.bert(inputs_embeds=torch.cat([m.get_prompt(ids.shape[0]), m.word_embeddings(ids)], 1),
                                  attention_mask=torch.cat([torch.ones(ids.shape[0], n, dtype=mask.dtype), mask], 1))
            h = h.last_hidden_state[:, n:, :]
            head = m.base_model.classifier.modules_to_save["default"]
            entry["max_head_diff"] = max((head.weight - torch.tensor(java["classifier.weight"])).abs().max().item(),
                                         (head.bias - torch.tensor(java["classifier.bias"])).abs().max().item())
        else:
            m = PeftModel.from_pretrained(bert(), folder)
            m.eval()
            cfg = m.peft_config["default"]
            h = real_positions(m, cfg)
        diff = ((h - torch.tensor(java["hidden"]).reshape(h.shape)).abs() * m3).max().item()
        entry.update({"peft_type": str(cfg.peft_type.value), "max_hidden_diff": diff,
                      "num_virtual_tokens": cfg.num_virtual_tokens})
        results["java_to_python"][name] = entry
        print(name, "loaded in PEFT: max |diff| =", diff)
    json.dump(results, open(os.path.join(here, "interop-results.json"), "w"), indent=1)
