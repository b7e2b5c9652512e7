"""A byte-level BPE tokenizer built locally and deterministically, and the default chat template.

No download is ever needed: the merges are learned from a few KB of English prose shipped in the
package (assets/corpus.txt). Byte-level BPE covers every string, so any dataset can be tokenized.
"""

from __future__ import annotations

from importlib import resources

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerBase, PreTrainedTokenizerFast

VOCAB_SIZE = 2000
EOS = "<|endoftext|>"
PAD = "<|pad|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
SPECIAL_TOKENS = [EOS, PAD, IM_START, IM_END]

# ChatML, the de-facto format of many open chat models: each turn is
# "<|im_start|>{role}\n{content}<|im_end|>\n"; the generation prompt is "<|im_start|>assistant\n".
# Rendering is prefix-stable (a conversation's rendering starts with that of any shorter prefix),
# which the assistant-only loss mask relies on.
DEFAULT_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def corpus_lines() -> list[str]:
    text = resources.files("midspec_worker").joinpath("assets/corpus.txt").read_text("utf-8")
    return [line for line in text.splitlines() if line.strip()]


def build_tokenizer() -> PreTrainedTokenizerFast:
    """Train the BPE on the shipped corpus; the same corpus always yields the same vocabulary."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    # trim_offsets=False keeps character offsets exact, which the assistant-only mask depends on.
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus_lines(), trainer)
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, eos_token=EOS, pad_token=PAD, padding_side="right"
    )
    wrapped.add_special_tokens({"additional_special_tokens": [IM_START, IM_END]})
    wrapped.chat_template = DEFAULT_CHAT_TEMPLATE
    return wrapped


def ensure_chat_template(tokenizer: PreTrainedTokenizerBase) -> None:
    """Give models without a chat template the default one, so sft stages work on any base model."""
    if not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = DEFAULT_CHAT_TEMPLATE
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
