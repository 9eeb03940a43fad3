"""PyTorch CPU reference for test/bench/sequence-student.bench.ts: the same sequence students (pre-LN
transformer with learned positions and a causal mask; window-MLP), the same loss
(alpha * CE + (1 - alpha) * T^2 * KL against dense teacher logits, per position) and Adam, on one
thread. Prints one JSON line: {"tokensPerSecond": [...one per repeat...], "params": n}.

Run: python sequence_student_torch.py '{"arch": "transformer", "batch": 16, "context": 64, ...}'
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Transformer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, h = c["dModel"], int(round(c["mlpRatio"] * c["dModel"]))
        self.heads = c["heads"]
        self.tok = nn.Embedding(c["vocab"], d)
        self.pos = nn.Parameter(torch.randn(c["context"], d) * 0.02)
        self.blocks = nn.ModuleList()
        for _ in range(c["layers"]):
            self.blocks.append(nn.ModuleDict({
                "ln1": nn.LayerNorm(d), "wq": nn.Linear(d, d, bias=False), "wk": nn.Linear(d, d, bias=False),
                "wv": nn.Linear(d, d, bias=False), "wo": nn.Linear(d, d), "ln2": nn.LayerNorm(d),
                "w1": nn.Linear(d, h), "w2": nn.Linear(h, d)}))
        self.lnf = nn.LayerNorm(d)
        self.out = nn.Linear(d, c["vocab"])

    def forward(self, ids, mask):
        b, l = ids.shape
        x = self.tok(ids) + self.pos[:l]
        causal = torch.triu(torch.full((l, l), -1e9), 1)
        bias = (1 - mask)[:, None, None, :] * -1e9 + causal
        for blk in self.blocks:
            h = blk["ln1"](x)
            split = lambda t: t.view(b, l, self.heads, -1).transpose(1, 2)
            q, k, v = split(blk["wq"](h)), split(blk["wk"](h)), split(blk["wv"](h))
            att = torch.softmax(q @ k.transpose(-1, -2) / (q.shape[-1] ** 0.5) + bias, -1) @ v
            x = x + blk["wo"](att.transpose(1, 2).reshape(b, l, -1))
            x = x + blk["w2"](F.relu(blk["w1"](blk["ln2"](x))))
        return self.out(self.lnf(x))


class WindowMlp(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, w = c["dModel"], c["window"]
        self.window = w
        self.tok = nn.Embedding(c["vocab"], d)
        layers, fan = [], w * d
        for u in c["hidden"]:
            layers += [nn.Linear(fan, u), nn.ReLU()]
            fan = u
        self.mlp = nn.Sequential(*layers, nn.Linear(fan, c["vocab"]))

    def forward(self, ids, mask):
        e = self.tok(ids) * mask[..., None]
        p = F.pad(e, (0, 0, self.window - 1, 0))
        l = ids.shape[1]
        return self.mlp(torch.cat([p[:, o:o + l] for o in range(self.window)], -1))


def main():
    c = json.loads(sys.argv[1])
    torch.set_num_threads(1)
    torch.manual_seed(1)
    model = Transformer(c) if c["arch"] == "transformer" else WindowMlp(c)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    b, l, v, t, alpha = c["batch"], c["context"], c["vocab"], c["temperature"], c["alpha"]
    ids = torch.randint(0, v, (b, l))
    mask = torch.ones(b, l)
    zt = torch.randn(b * (l - 1), v) * 3
    p_t = torch.softmax(zt / t, -1)
    labels = ids[:, 1:].reshape(-1)
    weights = mask[:, 1:].reshape(-1)

    def step():
        z = model(ids, mask)[:, : l - 1].reshape(-1, v)
        ce = (F.cross_entropy(z, labels, reduction="none") * weights).sum() / weights.sum()
        kl = ((p_t * (torch.log(p_t) - torch.log_softmax(z / t, -1))).sum(-1) * weights).sum() / weights.sum()
        loss = alpha * ce + (1 - alpha) * t * t * kl
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(c["warmup"]):
        step()
    rates = []
    for _ in range(c["repeats"]):
        t0 = time.perf_counter()
        for _ in range(c["steps"]):
            step()
        rates.append(b * l * c["steps"] / (time.perf_counter() - t0))
    print(json.dumps({"tokensPerSecond": rates, "params": sum(p.numel() for p in model.parameters())}))


if __name__ == "__main__":
    main()
