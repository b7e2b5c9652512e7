"""Load midspec checkpoints the way a user elsewhere would: plain transformers and peft, no midspec.

Run by test_portable_load.py as another OS user, from a copy of the checkpoints in another folder.
`python load_elsewhere.py REQUEST_JSON` prints one JSON object: the library versions, whether
midspec_worker could be imported, and for each named folder the chat prompt's continuation token
ids and their log-probabilities.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from typing import Any

import peft
import torch
import transformers
from peft import AutoPeftModelForCausalLM
from transformers import AutoModelForCausalLM, AutoTokenizer


def score(model: Any, tokenizer: Any, messages: list[dict[str, str]], continuation: str) -> Any:
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    context = tokenizer(text, add_special_tokens=False).input_ids
    target = tokenizer(continuation, add_special_tokens=False).input_ids
    with torch.no_grad():
        logits = model(torch.tensor([context + target])).logits[0].float()
    logprobs = torch.log_softmax(logits, -1)
    start = len(context) - 1
    return {
        "prompt_tokens": len(context),
        "ids": target,
        "logprobs": [float(logprobs[start + i, t]) for i, t in enumerate(target)],
    }


def main(request: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "versions": {
            "transformers": transformers.__version__,
            "peft": peft.__version__,
        },
        "midspec_importable": importlib.util.find_spec("midspec_worker") is not None,
    }
    messages, continuation = request["messages"], request["continuation"]
    for name, folder in request["merged"].items():
        tokenizer = AutoTokenizer.from_pretrained(folder)
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
        result[name] = score(model, tokenizer, messages, continuation)
    for name, folder in request["adapters"].items():
        # The base comes from the adapter's own config: the name the run was submitted with.
        model = AutoPeftModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
        base = model.peft_config["default"].base_model_name_or_path
        tokenizer = AutoTokenizer.from_pretrained(base)
        result[name] = score(model, tokenizer, messages, continuation)
        result[name]["base"] = base
    return result


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
