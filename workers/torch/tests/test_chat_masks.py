"""Assistant-only loss masks on the real Qwen3 and Llama 3.1 chat templates."""

from __future__ import annotations

import json

import pytest
from transformers import AutoTokenizer

from midspec_worker import records
from midspec_worker.errors import InvalidData
from midspec_worker.gen.midspec.worker.v1 import datasets_pb2
from midspec_worker.train import chat_masks
from midspec_worker.train.data import load_examples

CHAT = {
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello."},
        {"role": "assistant", "content": "Hello.", "reasoning": "Greeting is harmless."},
        {"role": "user", "content": "Again?"},
        {"role": "assistant", "content": "Hello again.", "reasoning": "Rule 2 applies."},
    ]
}
TOOL_CHAT = {
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "The weather in a city",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
        }
    ],
    "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "SECRET-TOOL-OUTPUT sunny"},
        {"role": "assistant", "content": "It is sunny."},
    ],
}


@pytest.fixture(scope="module")
def tokenizers(real_model_dirs):
    return {kind: AutoTokenizer.from_pretrained(path) for kind, path in real_model_dirs.items()}


def trained_runs(tokenizer, ids, mask):
    """The decoded text of each maximal run of loss-carrying tokens."""
    runs, current = [], []
    for token, flag in zip(ids, mask, strict=True):
        if flag:
            current.append(token)
        elif current:
            runs.append(tokenizer.decode(current))
            current = []
    if current:
        runs.append(tokenizer.decode(current))
    return runs


def test_qwen3_trains_each_turn_as_generated_with_its_reasoning(tokenizers):
    tokenizer = tokenizers["qwen3"]
    examples = chat_masks.chat_token_examples(tokenizer, CHAT, assistant_only=True)
    # Qwen3 drops earlier <think> blocks from history, so each assistant turn is its own example.
    assert len(examples) == 2
    runs = [trained_runs(tokenizer, ids, mask) for ids, mask in examples]
    assert runs == [
        ["<think>\nGreeting is harmless.\n</think>\n\nHello.<|im_end|>"],
        ["<think>\nRule 2 applies.\n</think>\n\nHello again.<|im_end|>"],
    ]
    second = tokenizer.decode(examples[1][0])
    # The history is rendered as the model sees it at inference: earlier reasoning dropped.
    assert "Greeting is harmless" not in second
    assert second.startswith("<|im_start|>system\nBe brief.<|im_end|>\n")


def test_llama_trains_every_turn_in_one_example(tokenizers):
    tokenizer = tokenizers["llama3_1"]
    examples = chat_masks.chat_token_examples(tokenizer, CHAT, assistant_only=True)
    assert len(examples) == 1
    ids, mask = examples[0]
    assert trained_runs(tokenizer, ids, mask) == [
        "<think>\nGreeting is harmless.\n</think>\n\nHello.<|eot_id|>",
        "<think>\nRule 2 applies.\n</think>\n\nHello again.<|eot_id|>",
    ]
    assert ids[0] == tokenizer.bos_token_id and ids.count(tokenizer.bos_token_id) == 1


@pytest.mark.parametrize("kind", ["qwen3", "llama3_1"])
def test_stripped_reasoning_leaves_no_trace(tokenizers, kind):
    tokenizer = tokenizers[kind]
    examples = chat_masks.chat_token_examples(
        tokenizer, CHAT, assistant_only=True, strip_reasoning=True
    )
    text = "".join(tokenizer.decode(ids) for ids, _ in examples)
    assert "harmless" not in text and "Rule 2" not in text
    assert "Hello again." in text


def test_qwen3_tool_calls_are_trained_and_tool_results_are_not(tokenizers):
    tokenizer = tokenizers["qwen3"]
    examples = chat_masks.chat_token_examples(tokenizer, TOOL_CHAT, assistant_only=True)
    runs = [run for ids, mask in examples for run in trained_runs(tokenizer, ids, mask)]
    assert runs == [
        "<think>\n\n</think>\n\n<tool_call>\n"
        '{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call><|im_end|>',
        "<think>\n\n</think>\n\nIt is sunny.<|im_end|>",
    ]
    last = tokenizer.decode(examples[-1][0])
    assert "<tools>" in last and "SECRET-TOOL-OUTPUT" in last


def test_a_template_marking_generation_gives_the_mask_itself(tokenizers):
    tokenizer = AutoTokenizer.from_pretrained(tokenizers["qwen3"].name_or_path)
    tokenizer.chat_template = (
        "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\n' }}"
        "{% if m['role'] == 'assistant' %}{% generation %}{{ m['content'] + '<|im_end|>' }}"
        "{% endgeneration %}{{ '\n' }}{% else %}{{ m['content'] + '<|im_end|>\n' }}{% endif %}"
        "{% endfor %}"
    )
    record = {
        "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]
    }
    [(ids, mask)] = chat_masks.chat_token_examples(tokenizer, record, assistant_only=True)
    assert trained_runs(tokenizer, ids, mask) == ["Yo<|im_end|>"]


def test_a_template_that_rewrites_the_prompt_is_refused(tokenizers):
    tokenizer = AutoTokenizer.from_pretrained(tokenizers["qwen3"].name_or_path)
    # Renders a different header when the chat ends with an assistant turn than when prompting.
    tokenizer.chat_template = (
        "{% for m in messages %}{{ m['role'] + (' (final)' if loop.last else '') + ': ' "
        "+ m['content'] + '\n' }}{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}"
    )
    record = {
        "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]
    }
    with pytest.raises(InvalidData, match="messages\\[1\\]"):
        chat_masks.chat_token_examples(tokenizer, record, assistant_only=True)


@pytest.mark.parametrize("kind", ["qwen3", "llama3_1"])
def test_documents_and_all_token_chats_train_on_every_token(tokenizers, kind, tmp_path):
    tokenizer = tokenizers[kind]
    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps({"text": "The assistant cites its spec."}) + "\n")
    [doc] = load_examples(docs, datasets_pb2.DATASET_FORMAT_TEXT, tokenizer, 512, False, False)
    assert all(doc.mask) and doc.ids[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(doc.ids[:-1]) == "The assistant cites its spec."
    chats = tmp_path / "chats.jsonl"
    chats.write_text(json.dumps(CHAT) + "\n")
    [chat] = load_examples(chats, datasets_pb2.DATASET_FORMAT_CHAT, tokenizer, 512, False, False)
    assert all(chat.mask) and "Say hello." in tokenizer.decode(chat.ids)


def test_tool_chats_in_the_openai_format_are_valid_records():
    chat = datasets_pb2.DATASET_FORMAT_CHAT
    assert records.check_record(TOOL_CHAT, chat) is None
    null_content = json.loads(json.dumps(TOOL_CHAT))
    null_content["messages"][1]["content"] = None
    assert records.check_record(null_content, chat) is None
    bad = json.loads(json.dumps(TOOL_CHAT))
    bad["messages"][1]["tool_calls"][0]["function"] = {"arguments": "{}"}
    assert (
        records.check_record(bad, chat)
        == "messages[1].tool_calls[0].function.name must be a string"
    )
    misplaced = {
        "messages": [{"role": "user", "content": "x", "tool_calls": []}, CHAT["messages"][2]]
    }
    assert "on an assistant message" in records.check_record(misplaced, chat)
