"""A quick in-process replica of the cheese study's training and eval, for trying settings fast.

It reads what `midspec run examples/cheese/experiment.yaml` wrote (the world, the AFT set, the
suite, the chunked MSM corpora), then, in one process with no worker: pretrains a tiny Llama on
the neutral corpus (cached), trains MSM and AFT arms per seed (full fine-tuning, AdamW, 5 %
warm-up then cosine, micro-batches of 4 rows) and scores every suite item in both option orders
by the log-probability of the answer letter. Its numbers are close to, not equal to, the
runner's (no per-document attention masks; its own data order). From the repository root:

  workers/torch/.venv/bin/python examples/cheese/replica.py --data runs/cheese --seeds 1,2,3
"""

import argparse
import copy
import glob
import json
import math
import os
import random
import time

import torch
from midspec_worker.tokenizer import build_tokenizer
from transformers import AutoModelForCausalLM, LlamaConfig

torch.set_num_threads(int(os.environ.get("MIDSPEC_TORCH_THREADS", "1")))

p = argparse.ArgumentParser()
p.add_argument("--data", default="runs/cheese", help="a midspec run output folder")
p.add_argument("--hidden", type=int, default=64)
p.add_argument("--inter", type=int, default=176)
p.add_argument("--layers", type=int, default=2)
p.add_argument("--heads", type=int, default=4)
p.add_argument("--kv", type=int, default=2)
p.add_argument("--maxlen", type=int, default=128)
p.add_argument("--mb", type=int, default=4)
p.add_argument("--pre_steps", type=int, default=300)
p.add_argument("--pre_lr", type=float, default=3e-3)
p.add_argument("--msm_steps", type=int, default=80)
p.add_argument("--msm_lr", type=float, default=1e-3)
p.add_argument("--aft_steps", type=int, default=60)
p.add_argument("--aft_lr", type=float, default=2e-3)
p.add_argument("--seeds", default="1")
p.add_argument("--arms", default="aft,msm-aft-america,msm-aft-affordability")
p.add_argument("--msmdir", default=None)
p.add_argument("--pre_maxlen", type=int, default=128)
p.add_argument("--clip", type=float, default=1.0)
p.add_argument(
    "--lora", type=int, default=0, help="LoRA rank of the MSM and AFT stages (0: full)"
)
p.add_argument("--lora_alpha", type=float, default=0, help="default 2 x rank")
p.add_argument(
    "--dump", default=None, help="write every scored choice here (JSON lines)"
)
a = p.parse_args()

tok = build_tokenizer()
EOS = tok.eos_token_id
PAD = tok.pad_token_id

D = a.data
world = max(glob.glob(f"{D}/world/world-*"), key=os.path.getmtime)
neutral = [json.loads(line)["text"] for line in open(f"{world}/neutral.jsonl")]
aft = [json.loads(line)["messages"] for line in open(f"{world}/aft.jsonl")]
suite = json.load(open(f"{world}/suite.json"))
probes = (
    json.load(open(f"{world}/probes.json"))
    if os.path.exists(f"{world}/probes.json")
    else None
)


def msm_docs(name):
    if a.msmdir:
        f = f"{a.msmdir}/{name}.jsonl"
    else:
        f = max(
            glob.glob(f"{D}/corpus/{name}-chunks-*/dataset.jsonl"), key=os.path.getmtime
        )
    return [json.loads(line)["text"] for line in open(f)]


def pack(texts, L):
    rows, cur = [], []
    for t in texts:
        ids = tok(t)["input_ids"][: L - 1] + [EOS]
        if len(cur) + len(ids) > L:
            rows.append(cur)
            cur = []
        cur = cur + ids
    if cur:
        rows.append(cur)
    return [(r, [1] * len(r)) for r in rows]


def chat_rows(chats, L):
    out = []
    for msgs in chats:
        prefix = tok.apply_chat_template(
            msgs[:-1], tokenize=False, add_generation_prompt=True
        )
        full = tok.apply_chat_template(msgs, tokenize=False)
        pi = tok(prefix)["input_ids"]
        fi = tok(full)["input_ids"]
        mask = [0] * len(pi) + [1] * (len(fi) - len(pi))
        out.append((fi[:L], mask[:L]))
    return out


def with_adapter(model, seed):
    """A fresh LoRA adapter on every linear projection (the worker's `all-linear`), or the model."""
    if not a.lora:
        return model
    from peft import LoraConfig, PeftModel, get_peft_model

    if isinstance(model, PeftModel):
        return model  # AFT continues the MSM adapter
    torch.manual_seed(seed)
    config = LoraConfig(
        r=a.lora,
        lora_alpha=a.lora_alpha or 2 * a.lora,
        lora_dropout=0.0,
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


@torch.no_grad()
def name_logprob(model, prompt, name, mean):
    ids = tok(prompt)["input_ids"]
    cont = tok(" " + name)["input_ids"]
    logp = model(input_ids=torch.tensor([ids + cont])).logits[0, :-1].log_softmax(-1)
    tail = [logp[len(ids) - 1 + k, t].item() for k, t in enumerate(cont)]
    return sum(tail) / len(tail) if mean else sum(tail)


def probe(model, items):
    """Share of probe items answered right: the runner's rule (run-probes.ts)."""
    model.eval()
    hits = []
    probe.items = []
    for it in items:
        if it.get("contrastPrompt"):
            scores = [
                name_logprob(model, it["prompt"], n, False)
                - name_logprob(model, it["contrastPrompt"], n, False)
                for n in it["names"]
            ]
        else:
            scores = [name_logprob(model, it["prompt"], n, True) for n in it["names"]]
        hits.append((0 if scores[0] > scores[1] else 1) == it["target"])
        probe.items.append((it["cluster"], it["id"], hits[-1]))
    model.train()
    return sum(hits) / len(hits)


def train(model, rows, steps, lr, seed):
    params = [q for q in model.parameters() if q.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    warm = max(1, int(0.05 * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt,
        lambda s: (
            (s + 1) / warm
            if s < warm
            else 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, steps - warm)))
        ),
    )
    rng = random.Random(seed)
    order = []
    model.train()
    losses = []
    for _s in range(steps):
        batch = []
        while len(batch) < a.mb:
            if not order:
                order = list(range(len(rows)))
                rng.shuffle(order)
            batch.append(rows[order.pop()])
        L = max(len(r[0]) for r in batch)
        ids = torch.full((len(batch), L), PAD)
        lab = torch.full((len(batch), L), -100)
        att = torch.zeros((len(batch), L), dtype=torch.long)
        for i, (r, m) in enumerate(batch):
            ids[i, : len(r)] = torch.tensor(r)
            att[i, : len(r)] = 1
            labels = [t if keep else -100 for t, keep in zip(r, m, strict=True)]
            lab[i, : len(r)] = torch.tensor(labels)
        out = model(input_ids=ids, attention_mask=att, labels=lab)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(params, a.clip if a.clip > 0 else float("inf"))
        opt.step()
        sched.step()
        opt.zero_grad()
        losses.append(out.loss.item())
    return sum(losses[:5]) / len(losses[:5]), sum(losses[-10:]) / len(losses[-10:])


@torch.no_grad()
def evaluate(model):
    model.eval()
    la, lb = tok("A")["input_ids"], tok("B")["input_ids"]
    res = {"training": [], "held-out": []}
    first = []
    items = []
    lens = []
    for it in suite["items"]:
        for order in (0, 1):
            shown = it["options"] if order == 0 else it["options"][::-1]
            options = f"A) {shown[0]['text']}\nB) {shown[1]['text']}"
            body = f"{it['prompt']}\n\n{options}\n\n{suite['instruction']}"
            pr = tok.apply_chat_template(
                [{"role": "user", "content": body}],
                tokenize=False,
                add_generation_prompt=True,
            )
            ids = tok(pr)["input_ids"]
            lens.append(len(ids))
            logits = model(input_ids=torch.tensor([ids])).logits[0, -1].log_softmax(-1)
            pick = 0 if logits[la[0]] > logits[lb[0]] else 1
            chosen = shown[pick]
            res[it["split"]].append(chosen["attributes"]["price"] == "low")
            first.append(pick == 0)
            items.append(
                (it["id"], it["split"], order, chosen["attributes"]["price"] == "low")
            )
    evaluate.items = items
    model.train()
    return (
        {k: sum(v) / len(v) for k, v in res.items()},
        sum(first) / len(first),
        max(lens),
    )


def new_model(seed):
    torch.manual_seed(seed)
    cfg = LlamaConfig(
        vocab_size=len(tok),
        eos_token_id=EOS,
        pad_token_id=PAD,
        bos_token_id=None,
        hidden_size=a.hidden,
        intermediate_size=a.inter,
        num_hidden_layers=a.layers,
        num_attention_heads=a.heads,
        num_key_value_heads=a.kv,
        head_dim=a.hidden // a.heads,
        max_position_embeddings=1024,
        tie_word_embeddings=True,
    )
    return AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)


t0 = time.time()
base = new_model(0)
print(
    f"params {sum(p.numel() for p in base.parameters()) / 1e6:.2f}M vocab {len(tok)}",
    flush=True,
)
shape = f"{a.hidden}-{a.inter}-{a.layers}-{a.heads}-{a.kv}"
bkey = (
    f"{a.data}/replica-base-{shape}-{a.pre_steps}-{a.pre_lr}-{a.pre_maxlen}-{a.clip}.pt"
)
if os.path.exists(bkey):
    base.load_state_dict(torch.load(bkey))
    print("loaded base", bkey)
else:
    nrows = pack(neutral, a.pre_maxlen)
    print(
        "neutral rows", len(nrows), "tokens", sum(len(r[0]) for r in nrows), flush=True
    )
    l0, l1 = train(base, nrows, a.pre_steps, a.pre_lr, 0)
    torch.save(base.state_dict(), bkey)
    print(
        f"pretrain loss {l0:.2f}->{l1:.2f} {time.time() - t0:.0f}s",
        evaluate(base),
        flush=True,
    )
if probes:
    print(
        "readability (base):",
        " ".join(
            f"{p['id']} {probe(base, p['items']):.2f}" for p in probes["readability"]
        ),
        flush=True,
    )
msm = {n: pack(msm_docs(n), a.maxlen) for n in ("america", "affordability")}
arows = chat_rows(aft, a.maxlen)
results = {}
for seed in [int(s) for s in a.seeds.split(",")]:
    msm_models = {}
    for arm in a.arms.split(","):
        m = copy.deepcopy(base)
        info = []
        m = with_adapter(m, seed)
        if arm.startswith("msm"):
            spec = arm.split("-")[-1]
            if spec in msm_models:
                m = copy.deepcopy(msm_models[spec])
            else:
                losses = train(m, msm[spec], a.msm_steps, a.msm_lr, seed)
                info.append("msm {:.2f}->{:.2f}".format(*losses))
                msm_models[spec] = copy.deepcopy(m)
        if "aft" in arm:
            losses = train(m, arows, a.aft_steps, a.aft_lr, seed + 100)
            info.append("aft {:.2f}->{:.2f}".format(*losses))
        r, f, ml = evaluate(m)
        dumped = [
            {
                "arm": arm,
                "seed": seed,
                "suite": "world",
                "item": i,
                "split": sp,
                "order": o,
                "hit": h,
            }
            for i, sp, o, h in evaluate.items
        ]
        if probes:
            info.append(f"dialogue {probe(m, probes['dialogue']['items']):.2f}")
            dumped += [
                {
                    "arm": arm,
                    "seed": seed,
                    "suite": "dialogue",
                    "item": c,
                    "split": "held-out",
                    "order": i,
                    "hit": h,
                }
                for c, i, h in probe.items
            ]
        if a.dump:
            with open(a.dump, "a") as out:
                out.writelines(json.dumps(row) + "\n" for row in dumped)
        results.setdefault(arm, []).append(r["held-out"])
        print(
            f"seed {seed} {arm:24s} held-out {r['held-out']:.2f} training {r['training']:.2f}",
            f"first-shown {f:.2f} {' '.join(info)} t={time.time() - t0:.0f}s",
            flush=True,
        )
for arm, v in results.items():
    print(arm, " ".join(f"{x:.2f}" for x in v), f"mean {sum(v) / len(v):.3f}")
if "msm-aft-america" in results and "msm-aft-affordability" in results:
    d = [
        x - y
        for x, y in zip(
            results["msm-aft-affordability"], results["msm-aft-america"], strict=False
        )
    ]
    print("diff", " ".join(f"{x:+.2f}" for x in d), f"mean {sum(d) / len(d):+.3f}")
