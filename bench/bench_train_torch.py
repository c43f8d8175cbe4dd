#!/usr/bin/python3
"""PyTorch reference for bench/bench_train.c: the same Llama-style model
shapes (tied embeddings, GQA, RoPE, RMSNorm, SwiGLU), batch 8 x 256 tokens,
forward + backward + AdamW, in float32 on the CPU, with the same thread count.
Weights are drawn from the same distribution (N(0, 0.02)) as grpo's init;
their values do not change dense-matmul speed. Prints the same table columns.

Run with Debian's python3-torch and the OpenMP build of OpenBLAS (its best
configuration here):  OMP_NUM_THREADS=2 /usr/bin/python3 bench/bench_train_torch.py
"""
import argparse
import math
import os
import time

import torch
import torch.nn.functional as F

SHAPES = {
    "small": dict(V=256, C=256, L=4, NH=8, NKV=4, I=688),
    "big": dict(V=8192, C=512, L=8, NH=8, NKV=2, I=1408),
}


class RMSNorm(torch.nn.Module):
    def __init__(self, c, eps=1e-6):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(c))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.w


def rope(x, cos, sin):
    h = x.shape[-1] // 2
    x1, x2 = x[..., :h], x[..., h:]
    return x * cos + torch.cat((-x2, x1), dim=-1) * sin


class Layer(torch.nn.Module):
    def __init__(self, C, NH, NKV, I):
        super().__init__()
        hd = C // NH
        self.NH, self.NKV, self.hd = NH, NKV, hd
        self.ln1, self.ln2 = RMSNorm(C), RMSNorm(C)
        self.q = torch.nn.Linear(C, NH * hd, bias=False)
        self.k = torch.nn.Linear(C, NKV * hd, bias=False)
        self.v = torch.nn.Linear(C, NKV * hd, bias=False)
        self.o = torch.nn.Linear(NH * hd, C, bias=False)
        self.gate = torch.nn.Linear(C, I, bias=False)
        self.up = torch.nn.Linear(C, I, bias=False)
        self.down = torch.nn.Linear(I, C, bias=False)

    def forward(self, x, cos, sin, mask):
        B, T, C = x.shape
        h = self.ln1(x)
        q = self.q(h).view(B, T, self.NH, self.hd).transpose(1, 2)
        k = self.k(h).view(B, T, self.NKV, self.hd).transpose(1, 2)
        v = self.v(h).view(B, T, self.NKV, self.hd).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        rep = self.NH // self.NKV
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd) + mask
        y = torch.softmax(att, dim=-1) @ v
        x = x + self.o(y.transpose(1, 2).reshape(B, T, C))
        h = self.ln2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Model(torch.nn.Module):
    def __init__(self, V, C, L, NH, NKV, I):
        super().__init__()
        self.embed = torch.nn.Embedding(V, C)
        self.layers = torch.nn.ModuleList([Layer(C, NH, NKV, I) for _ in range(L)])
        self.norm = RMSNorm(C)
        for p in self.parameters():
            if p.dim() == 2:
                torch.nn.init.normal_(p, 0.0, 0.02)

    def forward(self, tokens, cos, sin, mask):
        x = self.embed(tokens)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return self.norm(x) @ self.embed.weight.t()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--shape", default="all")
    a = ap.parse_args()
    threads = int(os.environ.get("OMP_NUM_THREADS", "2"))
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    B, T = 8, 256
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, batch {B} x {T} tokens\n")
    print("| shape | params | tokens/s | GFLOP/s | ms/step |")
    print("|---|---|---|---|---|")
    for name, s in SHAPES.items():
        if a.shape not in ("all", name):
            continue
        m = Model(**s)
        hd = s["C"] // s["NH"]
        inv = 1.0 / (10000 ** (torch.arange(0, hd, 2).float() / hd))
        ang = torch.arange(T).float()[:, None] * inv[None, :]
        emb = torch.cat((ang, ang), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        mask = torch.full((T, T), float("-inf")).triu(1)
        opt = torch.optim.AdamW(m.parameters(), lr=1e-4, weight_decay=0.0)
        tokens = torch.randint(0, s["V"], (B, T))
        targets = torch.roll(tokens, -1, dims=1)
        for it in range(a.warmup + a.steps):
            if it == a.warmup:
                t0 = time.perf_counter()
            logits = m(tokens, cos, sin, mask)
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, s["V"]), targets[:, :-1].reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
            opt.step()
        dt = (time.perf_counter() - t0) / a.steps
        C, I, L, V, NKV, NH = s["C"], s["I"], s["L"], s["V"], s["NKV"], s["NH"]
        kvd = NKV * (C // NH)
        pm = L * (C * (C + 2 * kvd) + C * C + 3 * C * I) + V * C
        flops_tok = 6 * pm + 6.0 * L * T * C
        n = sum(p.numel() for p in m.parameters())
        tps = B * T / dt
        print(f"| {name} | {n / 1e6:.1f}M | {tps:.0f} | {tps * flops_tok / 1e9:.1f} | {1e3 * dt:.1f} |", flush=True)


if __name__ == "__main__":
    main()
