"""Train and export the demo teacher `ar-diacritics` (the committed model.onnx next to this file).

    python3 -m venv /work/venv-ar && /work/venv-ar/bin/pip install torch==2.13.0 onnx onnxscript pyarrow
    npm pack quran-json@3.1.2 && tar xzf quran-json-3.1.2.tgz        # or have it in node_modules
    /work/venv-ar/bin/python artifacts/teachers/ar-diacritics/train_teacher.py --quran package/dist/quran.json

What it does
  1. Builds the rows with artifacts/experiments/ar-diacritics/ar_data.py (the data definition, data_spec.md):
     chapter split, cross-split dedup, char vocabulary from train, windows of L=128 characters.
  2. Trains a bidirectional character transformer (learned positions, a residual width-5 convolution over
     neighbouring letters, then 4 pre-LN attention layers, d=192, 4 heads, FF 768) on train only, one thread, seeded and deterministic; keeps the epoch with the lowest validation DER.
  3. Scores the kept model on validation and test: DER and WER with and without case endings.
  4. Exports ONNX opset 17: inputs input_ids int64 [batch, seq], attention_mask int64 [batch, seq] (seq <= 128),
     output logits float32 [batch, seq, 15]; writes card.json, training-record.json, reference-logits.json
     (torch logits of seeded random, non-corpus rows for check_onnx.mjs) and, with --write-data, the data files.

Flags: --epochs N, --seed S, --out DIR, --hp KEY=VALUE (override HP), --bench (time a few steps and exit),
       --export-only STATE.pt (re-export a saved state dict; must give byte-identical model.onnx).
"""

import argparse
import hashlib
import json
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(REPO / "artifacts" / "experiments" / "ar-diacritics"))
import ar_data  # noqa: E402

OPSET = 17
N_CLASSES = len(ar_data.CLASSES)
N_REFERENCE = 8  # validation windows whose torch logits go to reference-logits.json
HP = {"d": 192, "layers": 4, "heads": 4, "ff": 768, "dropout": 0.1, "maxLen": ar_data.L, "conv": 5,
      "batch": 16, "lr": 3e-3, "weightDecay": 0.01, "warmup": 0.06, "clip": 1.0}


class Layer(nn.Module):
    def __init__(self, d, heads, ff, dropout):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.ff1 = nn.Linear(d, ff)
        self.ff2 = nn.Linear(ff, d)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, bias):
        b, s, d = x.shape
        h = self.heads
        q, k, v = self.qkv(self.ln1(x)).reshape(b, s, 3, h, d // h).permute(2, 0, 3, 1, 4)
        att = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(d // h)) + bias
        att = self.drop(torch.softmax(att, dim=-1))
        y = torch.matmul(att, v).transpose(1, 2).reshape(b, s, d)
        x = x + self.drop(self.proj(y))
        return x + self.drop(self.ff2(self.drop(F.gelu(self.ff1(self.ln2(x))))))


class CharTransformer(nn.Module):
    def __init__(self, vocab, hp):
        super().__init__()
        self.emb = nn.Embedding(vocab, hp["d"], padding_idx=0)
        self.pos = nn.Embedding(hp["maxLen"], hp["d"])
        self.drop = nn.Dropout(hp["dropout"])
        # optional residual conv over neighbouring letters before the attention layers (0 = none)
        self.conv = nn.Conv1d(hp["d"], hp["d"], hp["conv"], padding=hp["conv"] // 2) if hp["conv"] else None
        self.layers = nn.ModuleList(Layer(hp["d"], hp["heads"], hp["ff"], hp["dropout"]) for _ in range(hp["layers"]))
        self.ln = nn.LayerNorm(hp["d"])
        self.out = nn.Linear(hp["d"], N_CLASSES)

    def forward(self, input_ids, attention_mask):
        s = input_ids.shape[1]
        pos = torch.arange(s, device=input_ids.device).unsqueeze(0)
        x = self.drop(self.emb(input_ids) + self.pos(pos))
        if self.conv is not None:  # padding zeroed first, so a row cut to its length sees the same values
            x = x * attention_mask.to(x.dtype).unsqueeze(-1)
            x = x + F.gelu(self.conv(x.transpose(1, 2)).transpose(1, 2))
        # keys that are padding get -1e9 (finite: a row of all padding stays finite, and is never scored)
        bias = ((1.0 - attention_mask.to(x.dtype)) * -1e9)[:, None, None, :]
        for layer in self.layers:
            x = layer(x, bias)
        return self.out(self.ln(x))


# ------------------------------------------------------------------------------------------- metrics
def score(pred: np.ndarray, labels: np.ndarray, word_final: np.ndarray) -> dict:
    """DER and WER with and without case endings (the word-final letter), over all letters (incl. class none).

    A word is a maximal run of letters (label != -100) in a row; a word is wrong if any of its scored letters
    is wrong. 'Without case endings' leaves out each word's last letter (one-letter words count as right)."""
    letter = labels != ar_data.IGNORE
    wrong = (pred != labels) & letter
    internal = letter & (word_final == 0)
    out = {"letters": int(letter.sum()), "DER": float(wrong.sum() / letter.sum()),
           "DERnoCE": float((wrong & internal).sum() / internal.sum()),
           "DERcaseEndingsOnly": float((wrong & (word_final == 1)).sum() / ((word_final == 1) & letter).sum())}
    words = words_wrong = words_wrong_nce = 0
    for r in range(labels.shape[0]):
        in_word = any_wrong = any_wrong_nce = False
        for t in range(labels.shape[1]):
            if letter[r, t]:
                in_word = True
                any_wrong |= bool(wrong[r, t])
                if not word_final[r, t]:
                    any_wrong_nce |= bool(wrong[r, t])
            if in_word and (t + 1 == labels.shape[1] or not letter[r, t + 1]):
                words += 1
                words_wrong += any_wrong
                words_wrong_nce += any_wrong_nce
                in_word = any_wrong = any_wrong_nce = False
    out.update({"words": words, "WER": words_wrong / words, "WERnoCE": words_wrong_nce / words})
    return out


def predict(model, rows, batch=64):
    """argmax per position; rows run in length order, each batch cut to its longest row (padding keys get
    -1e9 in attention, so real positions do not see the cut); padding positions are left 0 (never scored)."""
    ids = torch.tensor(rows["input_ids"], dtype=torch.int64)
    lengths = rows["length"]
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    pred = torch.zeros(ids.shape, dtype=torch.int64)
    model.eval()
    with torch.no_grad():
        for a in range(0, len(order), batch):
            idx = order[a:a + batch]
            s = max(lengths[i] for i in idx)
            x = ids[idx, :s]
            pred[idx, :s] = model(x, (x != 0).to(torch.int64)).argmax(-1)
    return pred.numpy()


def evaluate(model, rows):
    return score(predict(model, rows), np.array(rows["labels"]), np.array(rows["word_final"]))


# ------------------------------------------------------------------------------------------ training
def batches(n_rows, lengths, epoch, seed, size):
    """Seeded shuffle; within chunks of 50 batches sort by length (less padding); batch order shuffled."""
    g = torch.Generator().manual_seed(ar_data.derive_seed(seed, "ar-teacher/epoch", epoch))
    perm = torch.randperm(n_rows, generator=g).tolist()
    chunk = size * 50
    out = []
    for a in range(0, n_rows, chunk):
        part = sorted(perm[a:a + chunk], key=lambda i: lengths[i])
        out += [part[b:b + size] for b in range(0, len(part), size)]
    order = torch.randperm(len(out), generator=g).tolist()
    return [out[i] for i in order]


def train(data, epochs, seed, bench=False):
    torch.manual_seed(seed)
    model = CharTransformer(len(data["vocab"]["symbols"]), HP)
    tr = data["rows"]["train"]
    ids = torch.tensor(tr["input_ids"], dtype=torch.int64)
    labels = torch.tensor(tr["labels"], dtype=torch.int64)
    lengths = tr["length"]
    steps_per_epoch = len(batches(len(lengths), lengths, 0, seed, HP["batch"]))
    total = steps_per_epoch * epochs
    opt = torch.optim.AdamW(model.parameters(), lr=HP["lr"], weight_decay=HP["weightDecay"])
    warm = max(1, int(HP["warmup"] * total))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / total))))
    history, best, best_state = [], None, None
    t0, c0 = time.time(), time.process_time()
    for epoch in range(epochs):
        model.train()
        loss_sum = n_sum = 0
        te = time.time()
        for step, idx in enumerate(batches(len(lengths), lengths, epoch, seed, HP["batch"])):
            s = max(lengths[i] for i in idx)
            x, y = ids[idx, :s], labels[idx, :s]
            logits = model(x, (x != 0).to(torch.int64))
            loss = F.cross_entropy(logits.reshape(-1, N_CLASSES), y.reshape(-1), ignore_index=ar_data.IGNORE)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), HP["clip"])
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            n_sum += len(idx)
            if bench and step == 19:
                print(f"bench: 20 steps in {time.time() - te:.1f}s; {steps_per_epoch} steps/epoch")
                return None
        val = evaluate(model, data["rows"]["validation"])
        history.append({"epoch": epoch + 1, "trainLoss": round(loss_sum / n_sum, 5), "valDER": round(val["DER"], 5),
                        "valWER": round(val["WER"], 5), "seconds": round(time.time() - te, 1)})
        print(json.dumps(history[-1]), flush=True)
        if best is None or val["DER"] < best["valDER"]:
            best = history[-1]
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    timing = {"trainSeconds": round(time.time() - t0, 1), "trainCpuSeconds": round(time.process_time() - c0, 1),
              "stepsPerEpoch": steps_per_epoch}
    return model, history, best, timing


# -------------------------------------------------------------------------------------------- export
def export(model, path: Path):
    model.eval()
    ids = torch.ones(2, 16, dtype=torch.int64)
    mask = torch.ones(2, 16, dtype=torch.int64)
    torch.onnx.export(
        model, (ids, mask), str(path), input_names=["input_ids", "attention_mask"], output_names=["logits"],
        dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                      "logits": {0: "batch", 1: "seq"}},
        opset_version=OPSET, do_constant_folding=True, export_params=True, dynamo=False)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def synthetic_rows(vocab, seed, n=N_REFERENCE):
    """Seeded random rows (not corpus text): letters drawn uniformly, ~1 in 5 a space, lengths 5..L, padded."""
    g = torch.Generator().manual_seed(ar_data.derive_seed(seed, "ar-teacher/reference"))
    symbols = vocab["symbols"]
    space, letters = symbols.index(" "), [i for i, c in enumerate(symbols) if i > 1 and c != " "]
    rows = []
    for r in range(n):
        length = ar_data.L if r == 0 else int(torch.randint(5, ar_data.L + 1, (1,), generator=g))
        row = []
        for t in range(length):
            space_here = 0 < t < length - 1 and row[-1] != space and float(torch.rand(1, generator=g)) < 0.2
            row.append(space if space_here else letters[int(torch.randint(len(letters), (1,), generator=g))])
        rows.append(row + [0] * (ar_data.L - length))
    return rows


def reference_logits(model, rows, note):
    """torch logits of `rows` (int ids, padded with 0 to L) for check_onnx.mjs."""
    ids = torch.tensor(rows, dtype=torch.int64)
    model.eval()
    with torch.no_grad():
        logits = model(ids, (ids != 0).to(torch.int64))
    return {"note": note, "shape": list(logits.shape), "input_ids": rows,
            "logits": [round(float(v), 6) for v in logits.reshape(-1)]}


def write_references(model, data, seed, out: Path, val_reference: Path = None):
    ref = reference_logits(model, synthetic_rows(data["vocab"], seed),
                           "seeded random ids over the vocabulary (no corpus text); attention_mask = ids != 0")
    (out / "reference-logits.json").write_text(json.dumps(ref) + "\n")
    if val_reference:  # real validation windows: written outside the repository only, never committed
        rows = data["rows"]["validation"]["input_ids"][:N_REFERENCE]
        val_reference.write_text(json.dumps(reference_logits(model, rows, "first validation rows")) + "\n")


def card(sha, vocab_sha, params, test):
    return {
        "formatVersion": 1, "name": "ar-diacritics", "model": "model.onnx", "sha256": sha,
        "task": "token-classification",
        "tokenizer": {"kind": "char", "file": "vocab.json", "sha256": vocab_sha, "normalization": "NFC"},
        "inputs": [
            {"name": "input_ids", "column": "input_ids", "dtype": "int64", "shape": ["batch", "seq"]},
            {"name": "attention_mask", "column": "attention_mask", "dtype": "int64", "shape": ["batch", "seq"]},
        ],
        "context": ar_data.L,
        "output": {"name": "logits", "kind": "logits", "shape": ["batch", "seq", N_CLASSES]},
        "classes": {"count": N_CLASSES, "names": ar_data.CLASSES},
        "description": (
            f"Arabic diacritisation teacher: character transformer encoder (width-5 conv, then 4 pre-LN layers, "
            f"d=192, 4 heads, FF 768), learned positions (seq <= {ar_data.L}), {params} params; per-letter logits over 15 diacritic "
            f"classes; test DER {test['DER'] * 100:.2f}% / {test['DERnoCE'] * 100:.2f}% without case endings, "
            f"WER {test['WER'] * 100:.2f}% / {test['WERnoCE'] * 100:.2f}%; trained by train_teacher.py on the "
            f"quran-json train chapters (artifacts/experiments/ar-diacritics/data_spec.md), ONNX opset {OPSET}"),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quran", type=Path, default=ar_data.DEFAULT_QURAN)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=20251201)
    ap.add_argument("--out", type=Path, default=HERE)
    ap.add_argument("--bench", action="store_true")
    ap.add_argument("--export-only", type=Path)
    ap.add_argument("--save-state", type=Path, help="also save the kept state dict here")
    ap.add_argument("--val-reference", type=Path, help="write torch logits of validation rows here (not to commit)")
    ap.add_argument("--write-data", action="store_true", help="also write split/data-record/vocab/classes")
    ap.add_argument("--hp", action="append", default=[], metavar="KEY=VALUE", help="override a hyperparameter")
    a = ap.parse_args()
    for kv in a.hp:
        k, v = kv.split("=", 1)
        HP[k] = type(HP[k])(v)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    data = ar_data.build(a.quran)
    if a.write_data:
        ar_data.write_files(data)
    if a.export_only:
        model = CharTransformer(len(data["vocab"]["symbols"]), HP)
        model.load_state_dict(torch.load(a.export_only))
        print("sha256", export(model, a.out / "model.onnx"))
        write_references(model, data, a.seed, a.out, a.val_reference)
        return
    result = train(data, a.epochs, a.seed, bench=a.bench)
    if result is None:
        return
    model, history, best, timing = result
    if a.save_state:
        torch.save(model.state_dict(), a.save_state)
    val, test = evaluate(model, data["rows"]["validation"]), evaluate(model, data["rows"]["test"])
    a.out.mkdir(parents=True, exist_ok=True)
    sha = export(model, a.out / "model.onnx")
    vocab_sha = hashlib.sha256((HERE / "vocab.json").read_bytes()).hexdigest()
    params = sum(p.numel() for p in model.parameters())
    rnd = lambda m: {k: (round(v, 6) if isinstance(v, float) else v) for k, v in m.items()}  # noqa: E731
    record = {
        "torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version(),
        "threads": torch.get_num_threads(), "seed": a.seed, "epochs": a.epochs, "hyperparameters": HP,
        "optimizer": "AdamW, linear warm-up then cosine to 0, per step",
        "selection": "epoch with the lowest validation DER", "selectedEpoch": best["epoch"],
        **timing, "history": history, "params": params,
        "validation": rnd(val), "test": rnd(test),
        "data": {"record": "artifacts/experiments/ar-diacritics/data-record.json",
                 "corpusSha256": data["record"]["corpus"]["sha256"]},
        "onnxSha256": sha, "onnxBytes": (a.out / "model.onnx").stat().st_size, "opset": OPSET,
    }
    (a.out / "training-record.json").write_text(json.dumps(record, indent=2) + "\n")
    (a.out / "card.json").write_text(json.dumps(card(sha, vocab_sha, params, test), indent=2) + "\n")
    write_references(model, data, a.seed, a.out, a.val_reference)
    print(json.dumps({"validation": rnd(val), "test": rnd(test), "sha256": sha}, indent=1))


if __name__ == "__main__":
    main()
