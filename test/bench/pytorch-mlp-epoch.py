"""PyTorch counterpart of test/bench/backends.bench.ts: the same MLP students (784-h-h-10, ReLU),
the same loss (alpha CE + (1 - alpha) T^2 KL at T = 4, alpha = 0.1, dense teacher logits), Adam at
1e-3, batch 128, one epoch of 469 steps cycling over 16 random batches, loss summed on the device and
read once; CPU, one thread (torch.set_num_threads(1)). Prints one JSON line: examples/s per net.

Run: python test/bench/pytorch-mlp-epoch.py 128,128 800,800   (BENCH_STEPS=N for a shorter epoch)
"""
import json
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
B, T, ALPHA = 128, 4.0, 0.1
STEPS = int(__import__("os").environ.get("BENCH_STEPS", "469"))
g = torch.Generator().manual_seed(1)
batches = [(torch.rand(B, 784, generator=g), torch.randint(0, 10, (B,), generator=g), 4 * torch.rand(B, 10, generator=g)) for _ in range(16)]


def epoch(hidden, steps):
    layers, fan = [], 784
    for h in hidden:
        layers += [torch.nn.Linear(fan, h), torch.nn.ReLU()]
        fan = h
    net = torch.nn.Sequential(*layers, torch.nn.Linear(fan, 10))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    t0 = time.perf_counter()
    total = torch.zeros(())
    for s in range(steps):
        x, y, zt = batches[s % len(batches)]
        z = net(x)
        kl = F.kl_div(F.log_softmax(z / T, 1), F.log_softmax(zt / T, 1), log_target=True, reduction="batchmean")
        loss = ALPHA * F.cross_entropy(z, y) + (1 - ALPHA) * T * T * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total += loss.detach()
    total.item()
    return time.perf_counter() - t0


rows = {}
for arg in sys.argv[1:]:
    hidden = [int(h) for h in arg.split(",")]
    epoch(hidden, 20)
    rows["784-" + "-".join(map(str, hidden)) + "-10"] = STEPS * B / epoch(hidden, STEPS)
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "rows": rows}))
