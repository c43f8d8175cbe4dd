#!/usr/bin/python3
"""PyTorch reference for bench/bench_rollout.c: a KV-cache generation loop
for the same Llama-style shapes (tied embeddings, GQA, RoPE, RMSNorm,
SwiGLU), float32 on the CPU, with the same thread count and the same cases:

  decode b1     one prompt, one sample
  decode g16    one prompt prefilled once, its KV cache copied to 16 samples
  decode 8x16   8 prompts x 16 samples
  prefill       8 prompts x 128 tokens

Each decode step embeds the new tokens, runs every layer against a
preallocated cache, computes the full logits, samples with temperature 1
(torch.multinomial) and takes the sampled tokens' log-softmax, as the C
engine does. The model is in its best configuration for this loop: fused
q/k/v and gate/up weights, inference_mode, grouped-query attention without
repeating the cache, and for batch 1 both matrix-vector (1-D activations,
so BLAS sgemv) and matrix-matrix forms are timed and the faster is kept.
Decode tokens/s = tokens from decode steps / their time (prefill excluded).

Run with Debian's python3-torch (its OpenMP build):
  OMP_NUM_THREADS=2 /usr/bin/python3 bench/bench_rollout_torch.py
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


class KVModel:
    def __init__(self, V, C, L, NH, NKV, I, max_pos=1024, theta=10000.0, eps=1e-6):
        g = torch.Generator().manual_seed(0)
        self.V, self.C, self.L, self.NH, self.NKV, self.I = V, C, L, NH, NKV, I
        self.HD = C // NH
        self.eps = eps
        qkv = (NH + 2 * NKV) * self.HD

        def w(*shape):
            return torch.randn(*shape, generator=g) * 0.02

        self.embed = w(V, C)
        self.layers = [
            dict(ln1=torch.ones(C), wqkv=w(qkv, C), wo=w(C, NH * self.HD), ln2=torch.ones(C), wgu=w(2 * I, C),
                 wdown=w(C, I))
            for _ in range(L)
        ]
        self.norm = torch.ones(C)
        inv = 1.0 / (theta ** (torch.arange(0, self.HD, 2).float() / self.HD))
        ang = torch.arange(max_pos).float()[:, None] * inv[None, :]
        emb = torch.cat((ang, ang), dim=-1)
        self.cos, self.sin = emb.cos(), emb.sin()
        self.n_params = V * C + L * (qkv * C + C * NH * self.HD + 3 * C * I + 2 * C) + C

    def rms(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * w

    def rope(self, x, cos, sin):
        h = x.shape[-1] // 2
        return x * cos + torch.cat((-x[..., h:], x[..., :h]), dim=-1) * sin

    def new_cache(self, B, T):
        return [(torch.zeros(B, self.NKV, T, self.HD), torch.zeros(B, self.NKV, T, self.HD)) for _ in range(self.L)]

    def prefill(self, tokens, cache):
        """tokens (B, T) from position 0; fills cache[:, :, :T]; returns last-row logits (B, V)."""
        B, T = tokens.shape
        NH, NKV, HD = self.NH, self.NKV, self.HD
        cos, sin = self.cos[:T], self.sin[:T]
        mask = torch.full((T, T), float("-inf")).triu(1)
        x = self.embed[tokens]
        for l, p in enumerate(self.layers):
            h = self.rms(x, p["ln1"])
            qkv = F.linear(h, p["wqkv"])
            q = qkv[..., : NH * HD].view(B, T, NH, HD).transpose(1, 2)
            k = qkv[..., NH * HD : (NH + NKV) * HD].view(B, T, NKV, HD).transpose(1, 2)
            v = qkv[..., (NH + NKV) * HD :].view(B, T, NKV, HD).transpose(1, 2)
            q, k = self.rope(q, cos, sin), self.rope(k, cos, sin)
            cache[l][0][:, :, :T] = k
            cache[l][1][:, :, :T] = v
            qg = q.reshape(B, NKV, NH // NKV, T, HD)
            att = (qg @ k.unsqueeze(2).transpose(-1, -2)) / math.sqrt(HD) + mask
            y = (torch.softmax(att, dim=-1) @ v.unsqueeze(2)).reshape(B, NH, T, HD).transpose(1, 2).reshape(B, T, NH * HD)
            x = x + F.linear(y, p["wo"])
            h = self.rms(x, p["ln2"])
            gu = F.linear(h, p["wgu"])
            x = x + F.linear(F.silu(gu[..., : self.I]) * gu[..., self.I :], p["wdown"])
        return F.linear(self.rms(x[:, -1], self.norm), self.embed)

    def decode(self, tokens, pos, cache, mv):
        """One new token per sequence at position pos; returns logits (B, V).
        mv: B == 1 with 1-D activations (matrix-vector products)."""
        B = tokens.shape[0]
        NH, NKV, HD = self.NH, self.NKV, self.HD
        cos, sin = self.cos[pos], self.sin[pos]
        x = self.embed[tokens[0]] if mv else self.embed[tokens]
        for l, p in enumerate(self.layers):
            h = self.rms(x, p["ln1"])
            qkv = F.linear(h, p["wqkv"])
            q = self.rope(qkv[..., : NH * HD].reshape(B, NKV, NH // NKV, HD), cos, sin)
            k = self.rope(qkv[..., NH * HD : (NH + NKV) * HD].reshape(B, NKV, HD), cos, sin)
            v = qkv[..., (NH + NKV) * HD :].reshape(B, NKV, HD)
            K, Vc = cache[l]
            K[:, :, pos] = k
            Vc[:, :, pos] = v
            att = (q @ K[:, :, : pos + 1].transpose(-1, -2)) / math.sqrt(HD)
            y = (torch.softmax(att, dim=-1) @ Vc[:, :, : pos + 1]).reshape(B, NH * HD)
            if mv:
                y = y[0]
            x = x + F.linear(y, p["wo"])
            h = self.rms(x, p["ln2"])
            gu = F.linear(h, p["wgu"])
            x = x + F.linear(F.silu(gu[..., : self.I]) * gu[..., self.I :], p["wdown"])
        logits = F.linear(self.rms(x, self.norm), self.embed)
        return logits.unsqueeze(0) if mv else logits


def sample(logits):
    tok = torch.multinomial(torch.softmax(logits, dim=-1), 1)
    logp = torch.log_softmax(logits, dim=-1).gather(1, tok)
    return tok[:, 0], logp


def prefill_groups(m, tokens, G, new):
    """Prefills each of the P prompts (P, plen) once and copies its cache to
    its G rows of a cache for plen + new positions; returns that cache and
    the last prompt token's logits, one row per sample (P*G, V)."""
    P, plen = tokens.shape
    cache = m.new_cache(P * G, plen + new)
    pc = m.new_cache(P, plen)
    logits = m.prefill(tokens, pc)
    for l in range(m.L):
        for j in range(2):
            cache[l][j][:, :, :plen] = pc[l][j].repeat_interleave(G, dim=0)
    return cache, logits.repeat_interleave(G, dim=0)


def run_decode(m, P, G, plen, new, mv):
    """P prompts x G samples: prefill each prompt once, copy its cache to G rows, decode."""
    tokens = torch.randint(0, m.V, (P, plen))
    B = P * G
    cache, logits = prefill_groups(m, tokens, G, new)
    tok, _ = sample(logits)
    t0 = time.perf_counter()
    for s in range(new - 1):
        logits = m.decode(tok, plen + s, cache, mv)
        tok, _ = sample(logits)
    return B * (new - 1) / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="all")
    ap.add_argument("--new", type=int, default=128)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    threads = int(os.environ.get("OMP_NUM_THREADS", "2"))
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, load average {load} at start")
    print(f"prompt 32 tokens, {a.new} new tokens per sample, temperature 1, best of {a.reps} runs\n")
    print("| shape | params | decode b1 tok/s | decode g16 tok/s | g16 / b1 | decode 8x16 tok/s | prefill tok/s (8x128) |")
    print("|---|---|---|---|---|---|---|")
    with torch.inference_mode():
        for name, s in SHAPES.items():
            if a.shape not in ("all", name):
                continue
            m = KVModel(**s)
            best = lambda f: max(f() for _ in range(a.reps + 1))  # first run warms up
            b1 = max(best(lambda: run_decode(m, 1, 1, 32, a.new, True)),
                     best(lambda: run_decode(m, 1, 1, 32, a.new, False)))
            g16 = best(lambda: run_decode(m, 1, 16, 32, a.new, False))
            p8 = best(lambda: run_decode(m, 8, 16, 32, a.new, False))

            def prefill():
                tokens = torch.randint(0, m.V, (8, 128))
                cache = m.new_cache(8, 128)
                t0 = time.perf_counter()
                m.prefill(tokens, cache)
                return 8 * 128 / (time.perf_counter() - t0)

            pf = best(prefill)
            print(f"| {name} | {m.n_params / 1e6:.1f}M | {b1:.0f} | {g16:.0f} | {g16 / b1:.1f}x | {p8:.0f} | {pf:.0f} |",
                  flush=True)
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"\nload average {load} at end")


if __name__ == "__main__":
    main()
