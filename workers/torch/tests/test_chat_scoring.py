"""Choice evals on a chat model: ScoreLogprobs renders a chat prompt with the model's own template
(Qwen3's and Llama 3.1's real ones), generation prompt included, and scores the label after it."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from midspec_worker.gen.midspec.worker.v1 import common_pb2, inference_pb2

MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Which cheese is cheaper?\n\nA) Brie\nB) Gouda\n\nAnswer A or B."},
]


def direct(folder, text: str, continuation: str) -> float:
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    context = tokenizer(text, add_special_tokens=False).input_ids
    target = tokenizer(continuation, add_special_tokens=False).input_ids
    with torch.no_grad():
        logits = model(torch.tensor([context + target])).logits[0].float()
    logprobs = torch.log_softmax(logits, -1)
    return sum(float(logprobs[len(context) - 1 + i, t]) for i, t in enumerate(target))


@pytest.mark.parametrize("kind", ["qwen3", "llama3_1"])
async def test_a_chat_prompt_is_scored_through_the_model_template(stub, real_model_dirs, kind):
    folder = real_model_dirs[kind]
    chat = common_pb2.Chat(messages=[common_pb2.ChatMessage(**m) for m in MESSAGES])
    response = await stub.ScoreLogprobs(
        inference_pb2.ScoreLogprobsRequest(
            model=common_pb2.ModelRef(base_model=str(folder)),
            items=[
                inference_pb2.ScoreItem(prompt=common_pb2.Prompt(chat=chat), continuation=label)
                for label in ("A", "B")
            ],
        )
    )
    tokenizer = AutoTokenizer.from_pretrained(folder)
    rendered = tokenizer.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)
    flattened = "\n\n".join(f"{m['role'].capitalize()}: {m['content']}" for m in MESSAGES)
    for label, result in zip(("A", "B"), response.results, strict=True):
        assert result.prompt_tokens == len(tokenizer(rendered, add_special_tokens=False).input_ids)
        assert result.logprob == pytest.approx(direct(folder, rendered, label), abs=1e-4)
    flat = direct(folder, flattened + "\n\nAssistant:", " A")
    assert abs(response.results[0].logprob - flat) > 1e-3
