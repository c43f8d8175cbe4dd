#!/usr/bin/python3
"""make_model_fixtures.py: writes tests/fixtures/model/<case>.h5, the
independent PyTorch reference for the C model's forward, LM-head log-probs
and entropy, full backward, and 5 AdamW steps (issue 2).

Not for: HF directories (make_hf_fixtures.py) or anything grpo runs. Needs
Debian's python3-torch, python3-numpy and python3-h5py:

    /usr/bin/python3 scripts/make_model_fixtures.py            # write all cases
    /usr/bin/python3 scripts/make_model_fixtures.py --check    # also print fp32-vs-fp64 errors

The reference runs in float64 from float32 weights; the same code in float32
gives the rounding error a float32 implementation should expect. File layout
and conventions: docs/fixtures.md.
"""
import argparse
import os
import sys
import zlib

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_model as fm  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "tests", "fixtures", "model")

SEQ_LENS = (7, 5, 9)
ADAMW = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1)
ADAMW_STEPS = 5
CLIP_FRACTION = 0.5  # max_grad_norm = CLIP_FRACTION * (first step's grad norm)
# Cases that also store /adamw/final/<name> (the parameters after the steps).
# The others store the objectives only, which already move by >= 1e-2 under
# every AdamW mistake tried (docs/fixtures.md); leaving the finals out keeps
# the fixtures small. These two cover every decay group: tied and untied
# embeddings, biases, norms.
FINALS_CASES = ("qwen2_gqa_bias_tied", "llama_gqa_untied")


def cases():
    """name -> config.json dict. vocab 64, hidden 32, 2 layers, MLP 48, eps 1e-6."""
    base = dict(vocab=64, hidden=32, layers=2, inter=48, rms_eps=1e-6, max_pos=64, bos=1, eos=2)
    return {
        "qwen2_gqa_bias_tied": fm.make_config("qwen2", heads=4, kv_heads=2, tied=True,
                                              rope_theta=1e6, **base),
        "llama_gqa_untied": fm.make_config("llama", heads=4, kv_heads=1, tied=False,
                                           rope_theta=1e4, **base),
        "qwen3_qknorm_hd16": fm.make_config("qwen3", heads=4, kv_heads=2, head_dim=16,
                                            tied=False, rope_theta=1e6, **base),
        "llama_mha_tied": fm.make_config("llama", heads=4, kv_heads=4, tied=True,
                                         rope_theta=1e4, **base),
        "qwen2_v1000_chunked": fm.make_config("qwen2", heads=4, kv_heads=2, tied=True,
                                              rope_theta=1e6, **dict(base, vocab=1000)),
    }


def case_seed(name):
    """A fixed per-case seed (CRC-32 of the case name)."""
    return zlib.crc32(name.encode())


def make_inputs(V, seed):
    """Packed batch of sequences of SEQ_LENS tokens, next-token targets (-1
    at each sequence's last token), random per-token weights."""
    rng = np.random.default_rng(seed)
    N = sum(SEQ_LENS)
    seq_start = np.concatenate(([0], np.cumsum(SEQ_LENS))).astype(np.int32)
    tokens = rng.integers(0, V, N).astype(np.int32)
    targets = np.full(N, -1, np.int32)
    for b in range(len(SEQ_LENS)):
        s, e = seq_start[b], seq_start[b + 1]
        targets[s:e - 1] = tokens[s + 1:e]
    w_lp = rng.standard_normal(N).astype(np.float32)
    w_lp[targets < 0] = 0.0
    w_ent = rng.standard_normal(N).astype(np.float32)
    return dict(tokens=tokens, seq_start=seq_start, targets=targets, w_lp=w_lp, w_ent=w_ent)


def torch_inputs(inp):
    return dict(tokens=torch.tensor(inp["tokens"], dtype=torch.int64),
                seq_start=[int(x) for x in inp["seq_start"]],
                targets=torch.tensor(inp["targets"], dtype=torch.int64),
                w_lp=torch.tensor(inp["w_lp"], dtype=torch.float64),
                w_ent=torch.tensor(inp["w_ent"], dtype=torch.float64))


def forward_backward(cfg, P, tin):
    """J, per-token outputs and dJ/dP for parameters P (leaf tensors)."""
    J, lp, ent, hf, logits = fm.objective(cfg, P, tin)
    grads = torch.autograd.grad(J, list(P.values()))
    return J, lp, ent, hf, logits, dict(zip(P.keys(), grads))


def decays(name, shape):
    """AdamW weight-decay group: 2-D tensors (matrices, embeddings) only."""
    return len(shape) == 2


ADAMW_BUGS = ("no_decay", "decay_everything", "coupled_l2", "no_bias_correction",
              "eps_inside_sqrt", "no_clipping")


def adamw_run(cfg, weights, tin, dtype, max_grad_norm=None, bug=None):
    """ADAMW_STEPS steps of AdamW minimising J, PyTorch semantics:
        g *= min(1, max_norm / (||g||_2 + 1e-6))      (clip_grad_norm_)
        p *= 1 - lr * wd                              (2-D tensors only)
        m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
        p -= lr / (1-b1^t) * m / (sqrt(v) / sqrt(1-b2^t) + eps)
    max_grad_norm None means CLIP_FRACTION x the first step's norm. `bug`
    (one of ADAMW_BUGS) injects a known mistake, for --sensitivity only.
    Returns (objectives[steps+1], pre-clip norms[steps], max_grad_norm, final params)."""
    a = ADAMW
    P = fm.params_to_torch(weights, dtype)
    m = {k: torch.zeros_like(v) for k, v in P.items()}
    v2 = {k: torch.zeros_like(v) for k, v in P.items()}
    objs, norms = [], []
    for t in range(1, ADAMW_STEPS + 1):
        for p in P.values():
            p.requires_grad_(True)
        J, _, _, _, _, g = forward_backward(cfg, P, tin)
        objs.append(float(J))
        norm = torch.sqrt(sum((gi.to(torch.float64) ** 2).sum() for gi in g.values()))
        norms.append(float(norm))
        if max_grad_norm is None:
            max_grad_norm = CLIP_FRACTION * float(norm)
        coef = max_grad_norm / (float(norm) + 1e-6)
        if bug == "no_clipping":
            coef = 1.0
        with torch.no_grad():
            for k in P:
                p = P[k].detach()
                gi = g[k] * coef if coef < 1.0 else g[k]
                dec = {"no_decay": False, "decay_everything": True}.get(bug, decays(k, p.shape))
                if bug == "coupled_l2" and dec:
                    gi, dec = gi + a["weight_decay"] * p, False
                if dec:
                    p = p * (1.0 - a["lr"] * a["weight_decay"])
                m[k] = a["beta1"] * m[k] + (1 - a["beta1"]) * gi
                v2[k] = a["beta2"] * v2[k] + (1 - a["beta2"]) * gi * gi
                bc1 = 1 - a["beta1"] ** t
                bc2 = 1 - a["beta2"] ** t
                if bug == "no_bias_correction":
                    bc1 = bc2 = 1.0
                denom = v2[k].sqrt() / (bc2 ** 0.5) + a["eps"]
                if bug == "eps_inside_sqrt":
                    denom = (v2[k] / bc2 + a["eps"]).sqrt()
                P[k] = p - (a["lr"] / bc1) * m[k] / denom
    with torch.no_grad():
        objs.append(float(fm.objective(cfg, P, tin)[0]))
    return objs, norms, max_grad_norm, {k: v.detach() for k, v in P.items()}


def adamw_torch_optim(cfg, weights, tin, max_grad_norm):
    """The same run through torch.optim.AdamW + clip_grad_norm_ (float64):
    a check of adamw_run, not written to the fixture."""
    P = fm.params_to_torch(weights, torch.float64, True)
    dec = [p for k, p in P.items() if decays(k, p.shape)]
    nodec = [p for k, p in P.items() if not decays(k, p.shape)]
    opt = torch.optim.AdamW([{"params": dec, "weight_decay": ADAMW["weight_decay"]},
                             {"params": nodec, "weight_decay": 0.0}],
                            lr=ADAMW["lr"], betas=(ADAMW["beta1"], ADAMW["beta2"]),
                            eps=ADAMW["eps"])
    for _ in range(ADAMW_STEPS):
        opt.zero_grad()
        J = fm.objective(cfg, P, tin)[0]
        J.backward()
        torch.nn.utils.clip_grad_norm_(list(P.values()), max_grad_norm)
        opt.step()
    return {k: v.detach() for k, v in P.items()}


def self_check(cfg, P, tin):
    """The packed forward equals each sequence run alone, and a later token
    never changes an earlier position's logits."""
    _, logits = fm.forward(cfg, P, tin["tokens"], tin["seq_start"])
    ss = tin["seq_start"]
    for b in range(len(ss) - 1):
        s, e = ss[b], ss[b + 1]
        _, lb = fm.forward(cfg, P, tin["tokens"][s:e], [0, e - s])
        assert torch.allclose(lb, logits[s:e], rtol=0, atol=1e-12), "packing changes logits"
    tok2 = tin["tokens"].clone()
    tok2[ss[1] - 1] = (tok2[ss[1] - 1] + 1) % cfg["vocab_size"]
    _, l2 = fm.forward(cfg, P, tok2, ss)
    assert torch.equal(l2[: ss[1] - 1], logits[: ss[1] - 1]), "attention is not causal"
    assert torch.equal(l2[ss[1]:], logits[ss[1]:]), "attention crosses sequences"


def write_h5(path, cfg, weights, inp, out, grads, adam):
    """One fixture file; see docs/fixtures.md for the layout."""
    tmp = path + ".tmp"
    with h5py.File(tmp, "w", libver="earliest", track_order=False) as f:
        f.attrs["config"] = np.bytes_(fm.config_json(cfg).encode())
        f.attrs["format"] = np.bytes_(b"grpo-model-fixture-1")

        def ds(name, data):
            f.create_dataset(name, data=data, track_times=False)

        for name, _, _ in fm.tensor_specs(cfg):
            ds("model/" + name, weights[name])
        for k in ("tokens", "seq_start", "targets", "w_lp", "w_ent"):
            ds("inputs/" + k, inp[k])
        ds("out/logprobs", out["logprobs"])
        ds("out/entropy", out["entropy"])
        ds("out/objective", np.float64(out["objective"]))
        ds("out/hidden_final", out["hidden_final"])
        for name, _, _ in fm.tensor_specs(cfg):
            ds("grad/" + name, grads[name])
        for k in ("lr", "beta1", "beta2", "eps", "weight_decay"):
            ds("adamw/" + k, np.float64(ADAMW[k]))
        ds("adamw/steps", np.int32(ADAMW_STEPS))
        ds("adamw/max_grad_norm", np.float64(adam["max_grad_norm"]))
        ds("adamw/objectives", np.array(adam["objectives"], np.float64))
        ds("adamw/grad_norms", np.array(adam["grad_norms"], np.float64))
        if adam["final"] is not None:
            for name, _, _ in fm.tensor_specs(cfg):
                ds("adamw/final/" + name, adam["final"][name])
    os.replace(tmp, path)


def rel(a, b):
    """max |a - b| / max |b| (b the reference), and max |a - b|."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    d = float(np.abs(a - b).max()) if a.size else 0.0
    s = float(np.abs(b).max()) if b.size else 0.0
    return (d / s if s > 0 else d), d


def make_case(name, cfg, check):
    weights = fm.init_weights(cfg, case_seed(name))
    inp = make_inputs(cfg["vocab_size"], case_seed(name) + 1)
    tin = torch_inputs(inp)
    P = fm.params_to_torch(weights, torch.float64, True)
    self_check(cfg, {k: v.detach() for k, v in P.items()}, tin)
    J, lp, ent, hf, _, g = forward_backward(cfg, P, tin)
    out = dict(objective=float(J), logprobs=lp.detach().numpy(),
               entropy=ent.detach().numpy(), hidden_final=hf.detach().numpy())
    grads = {k: v.numpy().astype(np.float32) for k, v in g.items()}
    objs, norms, mgn, final = adamw_run(cfg, weights, tin, torch.float64)
    adam = dict(objectives=objs, grad_norms=norms, max_grad_norm=mgn,
                final={k: v.numpy().astype(np.float32) for k, v in final.items()}
                if name in FINALS_CASES else None)
    # The hand-written AdamW must agree with torch.optim's.
    ref = adamw_torch_optim(cfg, weights, tin, mgn)
    worst = max(float((ref[k] - final[k]).abs().max()) for k in ref)
    assert worst < 1e-12, "adamw_run disagrees with torch.optim.AdamW by %g" % worst
    path = os.path.join(OUT_DIR, name + ".h5")
    write_h5(path, cfg, weights, inp, out, grads, adam)
    print("%-22s %8d bytes  J=% .6f  |g|=%.4g  max_grad_norm=%.4g  J after %d steps=% .6f"
          % (name, os.path.getsize(path), out["objective"], norms[0], mgn, ADAMW_STEPS, objs[-1]))
    if check:
        report_fp32(name, cfg, weights, tin, out, g, adam)


def report_fp32(name, cfg, weights, tin, out, g64, adam):
    """Runs everything in float32 and prints the error against float64."""
    P = fm.params_to_torch(weights, torch.float32, True)
    t32 = dict(tin, w_lp=tin["w_lp"].float(), w_ent=tin["w_ent"].float())
    J, lp, ent, hf, _, g = forward_backward(cfg, P, t32)
    print("  fp32 vs fp64: logprobs abs %.2e  entropy abs %.2e  objective abs %.2e (rel %.2e)"
          "  hidden_final abs %.2e"
          % (rel(lp.detach(), out["logprobs"])[1], rel(ent.detach(), out["entropy"])[1],
             abs(float(J) - out["objective"]), abs(float(J) - out["objective"]) / abs(out["objective"]),
             rel(hf.detach(), out["hidden_final"])[1]))
    worst = max(((rel(g[k], g64[k].numpy())[0], k) for k in g), key=lambda x: x[0])
    print("  fp32 vs fp64: grads max (max|d| / max|ref|) over tensors %.2e (%s)" % worst)
    objs, norms, _, final = adamw_run(cfg, weights, t32, torch.float32, adam["max_grad_norm"])
    dj = max(abs(a - b) for a, b in zip(objs, adam["objectives"]))
    dn = max(abs(a - b) / b for a, b in zip(norms, adam["grad_norms"]))
    _, _, _, f64 = adamw_run(cfg, weights, tin, torch.float64, adam["max_grad_norm"])
    # Adam divides by sqrt(v) + eps: where |g| is near eps (1e-8) the update
    # amplifies rounding, so split by the size of the first step's gradient.
    well = ill = 0.0
    for k in final:
        d = (final[k].double() - f64[k]).abs()
        big = g64[k].abs() >= 1e-5
        if big.any():
            well = max(well, float(d[big].max()))
        if (~big).any():
            ill = max(ill, float(d[~big].max()))
    print("  fp32 vs fp64: adamw objectives abs %.2e  grad_norms rel %.2e  final params abs"
          " %.2e where |grad| >= 1e-5, %.2e elsewhere" % (dj, dn, well, ill))


MODEL_BUGS = ("positions_global", "no_rope", "rope_interleaved", "gqa_modulo",
              "no_qk_norm", "no_bias", "no_causal", "cross_seq_attention",
              "scale_1_over_hd", "norm_weight_ignored", "wrong_eps", "gelu")


def sensitivity(name, cfg):
    """How far known mistakes move what the fixture stores: for model bugs the
    largest per-tensor gradient change (max|dg| / max|g|) and |dJ|; for AdamW
    bugs the largest change of the objectives and of the final parameters
    where the first gradient has |g| >= 1e-5."""
    weights = fm.init_weights(cfg, case_seed(name))
    tin = torch_inputs(make_inputs(cfg["vocab_size"], case_seed(name) + 1))
    P = fm.params_to_torch(weights, torch.float64, True)
    J0, _, _, _, _, g0 = forward_backward(cfg, P, tin)
    row = []
    for bug in MODEL_BUGS:
        P = fm.params_to_torch(weights, torch.float64, True)
        J = fm.objective(cfg, P, tin, (bug,))[0]
        g = torch.autograd.grad(J, list(P.values()), allow_unused=True)
        # A tensor the bug leaves unused (no_bias) gets a zero gradient.
        g = {k: (gi if gi is not None else torch.zeros_like(g0[k])) for k, gi in zip(P, g)}
        if all(torch.equal(g[k], g0[k]) for k in g):
            continue  # the bug does not apply to this architecture
        worst = max(float((g[k] - g0[k]).abs().max() / g0[k].abs().max()) for k in g)
        row.append("%s %.1e/%.1e" % (bug, worst, abs(float(J - J0))))
    print("%-22s model bugs (grad rel / |dJ|): %s" % (name, ", ".join(row)))
    o0, _, mgn, f0 = adamw_run(cfg, weights, tin, torch.float64)
    row = []
    for bug in ADAMW_BUGS:
        o, _, _, f = adamw_run(cfg, weights, tin, torch.float64, mgn, bug)
        dj = max(abs(x - y) for x, y in zip(o, o0))
        dp = max(float((f[k] - f0[k]).abs()[g0[k].abs() >= 1e-5].max())
                 for k in f if (g0[k].abs() >= 1e-5).any())
        row.append("%s %.1e/%.1e" % (bug, dj, dp))
    print("%-22s adamw bugs (|dJ| / |dparam|): %s" % ("", ", ".join(row)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="also run in float32 and print the error against float64")
    ap.add_argument("--only", help="write only this case")
    ap.add_argument("--sensitivity", action="store_true",
                    help="write nothing; print how far injected bugs move the stored outputs")
    args = ap.parse_args()
    torch.set_num_threads(1)  # the same summation order on every machine
    os.makedirs(OUT_DIR, exist_ok=True)
    for name, cfg in cases().items():
        if args.only and name != args.only:
            continue
        if args.sensitivity:
            sensitivity(name, cfg)
        else:
            make_case(name, cfg, args.check)


if __name__ == "__main__":
    main()
