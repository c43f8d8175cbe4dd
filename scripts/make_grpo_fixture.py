#!/usr/bin/python3
"""make_grpo_fixture.py: writes tests/fixtures/grpo/<case>.h5, an
independent PyTorch float64 reference of one whole GRPO update on a tiny
model (issue 9): the loss of a batch of completions written out in torch as
TRL's GRPOTrainer computes it, its gradient by autograd, gradient clipping
and one AdamW step. The C test (tests/trainer/test_grpo_parity.c) runs the
trainer's path (advantages, aggregation weights, the LM head's weight
callback at the sampling temperature, backward, clip, AdamW) on the same
inputs and compares the loss and every updated parameter.

Not for: anything grpo runs. Needs Debian's python3-torch, python3-numpy and
python3-h5py:

    /usr/bin/python3 scripts/make_grpo_fixture.py

Per case the batch holds two groups of two completions each (prompt and
completion lengths differ), fixed rewards, an old policy that differs from
the current one (so some tokens are clipped) and a reference policy that
differs too (so the KL term matters). Layout: docs/fixtures.md.
"""
import os
import sys

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_model as fm  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "tests", "fixtures", "grpo")

G = 2                                  # completions per prompt
PROMPT_LENS = (4, 3)                   # per group
COMPLETION_LENS = ((5, 3), (6, 4))     # per completion
REWARDS = (1.0, 0.0, 0.5, 1.5)
ADAMW = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1)

CASES = {
    # token-level ratio, clip-higher, k3 KL, entropy bonus, per-sequence mean
    "token_grpo": dict(temperature=0.7, eps_low=0.2, eps_high=0.28, beta=0.04, kl="k3",
                       entropy_coeff=0.01, level="token", loss_type="grpo", seed=11),
    # GSPO sequence ratio, k2 KL, token mean over the batch
    "sequence_dapo": dict(temperature=1.3, eps_low=0.1, eps_high=0.1, beta=0.02, kl="k2",
                          entropy_coeff=0.0, level="sequence", loss_type="dapo", seed=12),
}


def batch(cfg, seed):
    """Packed sequences (prompt + completion per completion), next-token
    targets on completion tokens only, and which completion a token is in."""
    rng = np.random.default_rng(seed)
    tokens, starts, targets, owner, prompt_len = [], [0], [], [], []
    for g in range(len(PROMPT_LENS)):
        prompt = rng.integers(0, cfg["vocab_size"], PROMPT_LENS[g]).tolist()
        for j in range(G):
            comp = rng.integers(0, cfg["vocab_size"], COMPLETION_LENS[g][j]).tolist()
            seq = prompt + comp
            i = g * G + j
            for t in range(len(seq)):
                has = t >= len(prompt) - 1 and t + 1 < len(seq)
                targets.append(seq[t + 1] if has else -1)
                owner.append(i if has else -1)
            tokens += seq
            starts.append(len(tokens))
            prompt_len.append(len(prompt))
    return (np.array(tokens, np.int32), np.array(starts, np.int32), np.array(targets, np.int32),
            np.array(owner, np.int32), np.array(prompt_len, np.int32))


def advantages(rewards):
    """(r - group mean) / (group sample std + 1e-4), as TRL's scale_rewards="group"."""
    r = torch.tensor(rewards, dtype=torch.float64).view(-1, G)
    mean = r.mean(1, keepdim=True)
    std = r.std(1, keepdim=True)  # unbiased, as torch and TRL use
    return ((r - mean) / (std + 1e-4)).view(-1)


def token_stats(logits, targets, temperature):
    z = logits / temperature
    logp_all = torch.log_softmax(z, -1)
    tg = targets.clamp(min=0)
    lp = logp_all.gather(1, tg.view(-1, 1)).view(-1)
    ent = -(logp_all.exp() * logp_all).sum(-1)
    return lp, ent


def kl_term(kind, ref, lp):
    x = ref - lp
    if kind == "k1":
        return -x
    if kind == "k2":
        return 0.5 * x * x
    xc = x.clamp(-20.0, 20.0)  # verl low_var_kl
    return (torch.exp(xc) - xc - 1).clamp(max=10.0)


def grpo_loss(cfg, P, inp, c):
    """The loss of the batch: sum over loss tokens of c_t * (-min(w A,
    clip(w) A) + beta k - entropy_coeff H), as grpo_loss.h states it."""
    _, logits = fm.forward(cfg, P, inp["tokens"], inp["seq_start"])
    lp, ent = token_stats(logits, inp["targets"], c["temperature"])
    owner = inp["owner"]
    mask = owner >= 0
    n_seqs = len(REWARDS)
    lens = torch.tensor([(owner == i).sum().item() for i in range(n_seqs)], dtype=torch.float64)
    log_ratio = lp - inp["old"]
    if c["level"] == "sequence":
        seq = torch.zeros(n_seqs, dtype=torch.float64).index_add(0, owner[mask], log_ratio[mask]) / lens
        log_w = torch.zeros_like(lp)
        log_w[mask] = seq[owner[mask]]
    else:
        log_w = log_ratio
    w = torch.exp(log_w)
    adv = torch.zeros_like(lp)
    adv[mask] = inp["adv"][owner[mask]]
    wc = w.clamp(1 - c["eps_low"], 1 + c["eps_high"])
    sur = -torch.minimum(w * adv, wc * adv)
    per = sur + c["beta"] * kl_term(c["kl"], inp["ref"], lp) - c["entropy_coeff"] * ent
    if c["loss_type"] == "grpo":
        coef = torch.zeros_like(lp)
        coef[mask] = 1.0 / (n_seqs * lens[owner[mask]])
    else:  # dapo
        coef = mask.to(torch.float64) / mask.sum()
    return (coef * per)[mask].sum()


def make_case(name, c):
    cfg = fm.make_config("qwen2", vocab=64, hidden=32, layers=2, heads=4, kv_heads=2, inter=48,
                         rope_theta=1e6, rms_eps=1e-6, tied=True, max_pos=64, bos=1, eos=2)
    weights = fm.init_weights(cfg, c["seed"])
    rng = np.random.default_rng(c["seed"] + 100)
    ref_weights = {k: (v + 0.05 * rng.standard_normal(v.shape)).astype(np.float32) for k, v in weights.items()}
    tokens, starts, targets, owner, _ = batch(cfg, c["seed"] + 1)
    inp = dict(tokens=torch.tensor(tokens, dtype=torch.int64), seq_start=[int(x) for x in starts],
               targets=torch.tensor(targets, dtype=torch.int64), owner=torch.tensor(owner, dtype=torch.int64))
    with torch.no_grad():
        P0 = fm.params_to_torch(weights, torch.float64)
        _, logits = fm.forward(cfg, P0, inp["tokens"], inp["seq_start"])
        lp0, _ = token_stats(logits, inp["targets"], c["temperature"])
        Pr = fm.params_to_torch(ref_weights, torch.float64)
        _, rlogits = fm.forward(cfg, Pr, inp["tokens"], inp["seq_start"])
        ref_lp, _ = token_stats(rlogits, inp["targets"], c["temperature"])
    # the old policy: the current log-probs moved, enough to clip some tokens
    shift = np.where(np.arange(len(tokens)) % 3 == 0, 0.4, -0.05 * (np.arange(len(tokens)) % 5))
    old = (lp0.numpy() + shift).astype(np.float32)
    old[targets < 0] = 0.0
    ref = ref_lp.numpy().astype(np.float32)
    ref[targets < 0] = 0.0
    inp["old"] = torch.tensor(old, dtype=torch.float64)
    inp["ref"] = torch.tensor(ref, dtype=torch.float64)
    inp["adv"] = advantages(REWARDS)

    P = fm.params_to_torch(weights, torch.float64, True)
    loss = grpo_loss(cfg, P, inp, c)
    grads = torch.autograd.grad(loss, list(P.values()))
    norm = float(torch.sqrt(sum((g ** 2).sum() for g in grads)))
    max_grad_norm = 0.5 * norm
    coef = max_grad_norm / (norm + 1e-6)
    a = ADAMW
    final = {}
    for (k, p), g in zip(P.items(), grads):
        g = g * min(coef, 1.0)
        p = p.detach()
        if len(p.shape) == 2:
            p = p * (1 - a["lr"] * a["weight_decay"])
        m = (1 - a["beta1"]) * g
        v = (1 - a["beta2"]) * g * g
        final[k] = p - (a["lr"] / (1 - a["beta1"])) * m / (v.sqrt() / (1 - a["beta2"]) ** 0.5 + a["eps"])
    # the same step through torch.optim (a check of the hand-written one)
    P2 = fm.params_to_torch(weights, torch.float64, True)
    dec = [p for k, p in P2.items() if len(p.shape) == 2]
    nodec = [p for k, p in P2.items() if len(p.shape) != 2]
    opt = torch.optim.AdamW([{"params": dec, "weight_decay": a["weight_decay"]}, {"params": nodec, "weight_decay": 0}],
                            lr=a["lr"], betas=(a["beta1"], a["beta2"]), eps=a["eps"])
    grpo_loss(cfg, P2, inp, c).backward()
    torch.nn.utils.clip_grad_norm_(list(P2.values()), max_grad_norm)
    opt.step()
    worst = max(float((P2[k].detach() - final[k]).abs().max()) for k in final)
    assert worst < 1e-12, "hand AdamW disagrees with torch.optim by %g" % worst

    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, name + ".h5")
    tmp = path + ".tmp"
    with h5py.File(tmp, "w", libver="earliest") as f:
        f.attrs["config"] = np.bytes_(fm.config_json(cfg).encode())
        f.attrs["format"] = np.bytes_(b"grpo-update-fixture-1")

        def ds(n, data):
            f.create_dataset(n, data=data, track_times=False)
        grad_of = dict(zip(P.keys(), grads))
        for n, _, _ in fm.tensor_specs(cfg):
            ds("model/" + n, weights[n])
            ds("grad/" + n, grad_of[n].numpy())
            ds("final/" + n, final[n].numpy().astype(np.float64))
        for k, v in dict(tokens=tokens, seq_start=starts, targets=targets, owner=owner, old=old, ref=ref).items():
            ds("inputs/" + k, v)
        ds("inputs/rewards", np.array(REWARDS, np.float64))
        ds("out/advantages", inp["adv"].numpy())
        ds("out/loss", np.float64(float(loss)))
        ds("out/grad_norm", np.float64(norm))
        for k in ("temperature", "eps_low", "eps_high", "beta", "entropy_coeff"):
            ds("config/" + k, np.float64(c[k]))
        ds("config/kl", np.int32(int(c["kl"][1])))
        ds("config/sequence_level", np.int32(c["level"] == "sequence"))
        ds("config/loss_type", np.int32({"grpo": 0, "dapo": 2}[c["loss_type"]]))
        ds("config/group_size", np.int32(G))
        ds("config/max_grad_norm", np.float64(max_grad_norm))
        for k, v in a.items():
            ds("adamw/" + k, np.float64(v))
    os.replace(tmp, path)
    print("%-14s %7d bytes  loss % .8f  |g| %.6f" % (name, os.path.getsize(path), float(loss), norm))


def main():
    torch.manual_seed(0)
    for name, c in CASES.items():
        make_case(name, c)


if __name__ == "__main__":
    main()
