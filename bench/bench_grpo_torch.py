#!/usr/bin/python3
"""PyTorch reference for a GRPO step of `grpo train` (bench/run_grpo_bench.sh
prints it beside the trainer's): the big bench shape, P prompts x G samples
of N new tokens after an L-token prompt, float32 on the CPU, the same
thread count. Not for: checking numbers (tests/trainer/test_grpo_parity.c
does that against scripts/make_grpo_fixture.py).

One step, timed as the trainer splits its own (time/...):
  rollout    the policy's weights copied into the fused KV-cache model of
             bench_rollout_torch.py (what a trainer hands its sampler), then
             KV-cache sampling at temperature 1: each prompt prefilled once,
             its cache copied to its G rows, N - 1 decode steps, the sampled
             tokens' log-probs kept (the old policy's);
  reward     the C run's length reward (DAPO's overlong shaping; every
             completion runs to N tokens, so all score -1) and
             group-relative advantages (r - mean) / (std + 1e-4);
  reference  forward of the frozen reference copy, log-probs of the
             completion tokens (no_grad), in micro-batches of M sequences;
  train      per micro-batch: forward, the GRPO loss written out below,
             backward (gradients accumulate); then clip_grad_norm_ and AdamW.
The loss (docs/training.md "The loss", loss_type grpo, num_iterations 1):
  w = exp(l - old), surrogate -min(w A, clip(w, 1 - eps, 1 + eps_high) A),
  k3 KL of x = q - l clamped to [-20, 20]: min(e^x - x - 1, 10), times beta,
  each completion's token mean, then the mean over the P*G completions.
The LM head runs on the completion positions only (the C trainer skips rows
without a target too). The model is bench_train_torch.py's (separate q, k,
v and gate/up weights, autograd).

  OMP_NUM_THREADS=2 /usr/bin/python3 bench/bench_grpo_torch.py [--steps S]
"""
import argparse
import copy
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_rollout_torch import KVModel, prefill_groups  # noqa: E402
from bench_train_torch import SHAPES, Model  # noqa: E402


def sampler_from(m, s):
    """A KVModel holding copies of m's weights (fused q/k/v and gate/up)."""
    kv = KVModel.__new__(KVModel)
    kv.V, kv.C, kv.L, kv.NH, kv.NKV, kv.I = s["V"], s["C"], s["L"], s["NH"], s["NKV"], s["I"]
    kv.HD, kv.eps = s["C"] // s["NH"], 1e-6
    with torch.no_grad():
        kv.embed = m.embed.weight.detach().clone()
        kv.layers = [dict(ln1=l.ln1.w.detach().clone(),
                          wqkv=torch.cat((l.q.weight, l.k.weight, l.v.weight)).detach(),
                          wo=l.o.weight.detach().clone(), ln2=l.ln2.w.detach().clone(),
                          wgu=torch.cat((l.gate.weight, l.up.weight)).detach(),
                          wdown=l.down.weight.detach().clone()) for l in m.layers]
        kv.norm = m.norm.w.detach().clone()
    inv = 1.0 / (10000.0 ** (torch.arange(0, kv.HD, 2).float() / kv.HD))
    ang = torch.arange(1024).float()[:, None] * inv[None, :]
    emb = torch.cat((ang, ang), dim=-1)
    kv.cos, kv.sin = emb.cos(), emb.sin()
    return kv


def sample(logits, temperature):
    logits = logits / temperature
    tok = torch.multinomial(torch.softmax(logits, dim=-1), 1)
    return tok[:, 0], torch.log_softmax(logits, dim=-1).gather(1, tok)[:, 0]


def rollout(kv, prompts, G, new, temperature):
    """prompts (P, L) -> completions (P*G, new) and their log-probs."""
    L = prompts.shape[1]
    cache, logits = prefill_groups(kv, prompts, G, new)
    toks, lps = [], []
    tok, lp = sample(logits, temperature)
    toks.append(tok), lps.append(lp)
    for s in range(new - 1):
        tok, lp = sample(kv.decode(tok, L + s, cache, False), temperature)
        toks.append(tok), lps.append(lp)
    return torch.stack(toks, 1), torch.stack(lps, 1)


def hidden(m, tokens, cos, sin, mask):
    """The final-norm hidden states (B, T, C) of bench_train_torch's Model."""
    x = m.embed(tokens)
    for layer in m.layers:
        x = layer(x, cos, sin, mask)
    return m.norm(x)


def completion_logprobs(m, seqs, L, cos, sin, mask, temperature):
    """Log-probs (B, N) of seqs[:, L:] at the temperature, the LM head on those positions only."""
    h = hidden(m, seqs, cos, sin, mask)[:, L - 1 : -1]
    logits = (h @ m.embed.weight.t()) / temperature
    return torch.log_softmax(logits, dim=-1).gather(-1, seqs[:, L:, None])[..., 0]


def grpo_loss(logp, old, ref, adv, n_total, eps_low, eps_high, beta):
    """The grpo-aggregated loss of a micro-batch's completions (B, N): each
    completion's token mean, summed and divided by the batch's n_total."""
    w = torch.exp(logp - old)
    a = adv[:, None]
    surr = -torch.min(w * a, torch.clamp(w, 1 - eps_low, 1 + eps_high) * a)
    x = torch.clamp(ref - logp, -20.0, 20.0)
    kl = torch.clamp(torch.exp(x) - x - 1, max=10.0)
    per_tok = surr + beta * kl
    return per_tok.mean(dim=1).sum() / n_total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--group", type=int, default=8)
    ap.add_argument("--prompt-len", type=int, default=32)
    ap.add_argument("--new", type=int, default=128)
    ap.add_argument("--mbs", type=int, default=8)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--beta", type=float, default=0.04)
    a = ap.parse_args()
    threads = int(os.environ.get("OMP_NUM_THREADS", "2"))
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    s = SHAPES["big"]
    P, G, L, N, T = a.prompts, a.group, a.prompt_len, a.new, 1.0
    eps, B = 0.2, a.prompts * a.group
    policy = Model(**s)
    ref = copy.deepcopy(policy)
    for p in ref.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(policy.parameters(), lr=1e-6, weight_decay=0.0)
    hd = s["C"] // s["NH"]
    inv = 1.0 / (10000 ** (torch.arange(0, hd, 2).float() / hd))
    ang = torch.arange(L + N).float()[:, None] * inv[None, :]
    emb = torch.cat((ang, ang), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.full((L + N, L + N), float("-inf")).triu(1)
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    n = sum(p.numel() for p in policy.parameters())
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, big shape ({n / 1e6:.1f}M parameters), "
          f"load average {load} at start")
    print(f"{P} prompts x {G} samples, prompt {L} + {N} new tokens, micro-batches of {a.mbs}; median of {a.steps} "
          f"steps after {a.warmup} warm-up\n")
    names = ["rollout", "reward", "reference", "train", "step"]
    times = {k: [] for k in names}
    for it in range(a.warmup + a.steps):
        t = {}
        t0 = time.perf_counter()
        prompts = torch.randint(0, s["V"], (P, L))
        with torch.inference_mode():
            kv = sampler_from(policy, s)
            comp, old = rollout(kv, prompts, G, N, T)
        t1 = time.perf_counter()
        t["rollout"] = t1 - t0
        # every completion is N tokens (EOS is not special here): DAPO's overlong shaping
        lengths = torch.full((B,), float(N))
        cache = N // 2  # max_length N, cache_length N / 2
        reward = torch.clamp((N - cache - lengths) / cache, min=-1.0, max=0.0)
        r = reward.view(P, G)
        adv = ((r - r.mean(1, keepdim=True)) / (r.std(1, keepdim=True) + 1e-4)).reshape(B)
        seqs = torch.cat((prompts.repeat_interleave(G, dim=0), comp), dim=1)
        t2 = time.perf_counter()
        t["reward"] = t2 - t1
        with torch.no_grad():
            reflp = torch.cat([completion_logprobs(ref, seqs[i : i + a.mbs], L, cos, sin, mask, T)
                               for i in range(0, B, a.mbs)])
        t3 = time.perf_counter()
        t["reference"] = t3 - t2
        opt.zero_grad(set_to_none=True)
        for i in range(0, B, a.mbs):
            sl = slice(i, i + a.mbs)
            logp = completion_logprobs(policy, seqs[sl], L, cos, sin, mask, T)
            loss = grpo_loss(logp, old[sl], reflp[sl], adv[sl], B, eps, eps, a.beta)
            loss.backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
        opt.step()
        t4 = time.perf_counter()
        t["train"] = t4 - t3
        t["step"] = t4 - t0
        if it >= a.warmup:
            for k in names:
                times[k].append(t[k])
    med = {k: statistics.median(v) for k, v in times.items()}
    print("| part | seconds |\n|---|---|")
    for k in names:
        print(f"| {k} | {med[k]:.3f} |")
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"\nload average {load} at end")
    print("torch: " + " ".join(f"{k}={med[k]:.4f}" for k in names) + f" threads={torch.get_num_threads()}")


if __name__ == "__main__":
    main()
