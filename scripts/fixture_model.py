"""fixture_model.py: an independent plain-PyTorch reference of the decoder-only
transformer grpo.c implements (Llama / Qwen2 / Qwen3), used by
make_model_fixtures.py and make_hf_fixtures.py to write test fixtures.

Not for: training or speed (it loops over sequences and heads in Python), nor
for anything at run time of grpo itself. It mirrors the math of HF
transformers' modeling_llama.py / modeling_qwen2.py / modeling_qwen3.py:

    x = embed[tokens]
    per layer:  h = rms(x) * ln1
                q, k, v = h Wq^T (+bq), h Wk^T (+bk), h Wv^T (+bv)
                (Qwen3) q = rms_head(q) * q_norm, k = rms_head(k) * k_norm
                q, k = rope(q), rope(k)        # rotate_half, positions per sequence
                a = softmax(q k^T / sqrt(HD) + causal mask) v   # kv head = h // (NH/NKV)
                x = x + a Wo^T
                h = rms(x) * ln2
                x = x + Wdown (silu(Wgate h) * (Wup h))
    logits = (rms(x) * norm) W_lm^T            # W_lm = embed when tied
    rms(x) = x * rsqrt(mean(x^2) + eps)

Every function takes the dtype from the tensors it is given, so the same code
runs in float64 (the reference) and float32 (to measure rounding).
"""
import json
import math

import numpy as np
import torch

# ---------------------------------------------------------------- config --

ARCHS = {
    "llama": "LlamaForCausalLM",
    "qwen2": "Qwen2ForCausalLM",
    "qwen3": "Qwen3ForCausalLM",
}


def make_config(model_type, vocab, hidden, layers, heads, kv_heads, inter,
                rope_theta, rms_eps, tied, head_dim=None, max_pos=64,
                bos=None, eos=None, torch_dtype="float32", explicit=True):
    """An HF config.json dict (keys sorted, as HF writes them) with the keys
    of that architecture's real configs. explicit=True also writes head_dim
    and attention_bias for every architecture (the training fixtures);
    explicit=False writes them only where the family's real configs do
    (Qwen2.5 configs have neither: Qwen2 always has q/k/v biases and
    head_dim = hidden_size / num_attention_heads)."""
    hd = head_dim if head_dim is not None else hidden // heads
    c = {
        "architectures": [ARCHS[model_type]],
        "attention_dropout": 0.0,
        "hidden_act": "silu",
        "hidden_size": hidden,
        "initializer_range": 0.02,
        "intermediate_size": inter,
        "max_position_embeddings": max_pos,
        "model_type": model_type,
        "num_attention_heads": heads,
        "num_hidden_layers": layers,
        "num_key_value_heads": kv_heads,
        "rms_norm_eps": rms_eps,
        "rope_scaling": None,
        "rope_theta": float(rope_theta),
        "tie_word_embeddings": bool(tied),
        "torch_dtype": torch_dtype,
        "use_cache": True,
        "vocab_size": vocab,
    }
    if explicit or model_type != "qwen2":
        c["head_dim"] = hd
        c["attention_bias"] = model_type == "qwen2"
    elif hd != hidden // heads:
        raise ValueError("qwen2 without explicit head_dim needs head_dim == hidden/heads")
    if bos is not None:
        c["bos_token_id"] = bos
    if eos is not None:
        c["eos_token_id"] = eos
    if model_type == "llama":
        c["mlp_bias"] = False
        c["pretraining_tp"] = 1
    if model_type in ("qwen2", "qwen3"):
        # As in Qwen2.5 / Qwen3 configs: a window size is present but unused.
        c["max_window_layers"] = layers
        c["sliding_window"] = max_pos if model_type == "qwen2" else None
        c["use_sliding_window"] = False
    return dict(sorted(c.items()))


def config_json(cfg):
    """config.json text: 2-space indent, sorted keys, trailing newline (as HF)."""
    return json.dumps(cfg, indent=2, sort_keys=True) + "\n"


def dims(cfg):
    hd = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    return dict(V=cfg["vocab_size"], C=cfg["hidden_size"], L=cfg["num_hidden_layers"],
                NH=cfg["num_attention_heads"], NKV=cfg["num_key_value_heads"], HD=hd,
                I=cfg["intermediate_size"])


def has_bias(cfg):
    """q/k/v biases: Qwen2 always (HF hard-codes them). Llama and Qwen3 with
    attention_bias true would also bias o_proj; no fixture uses that."""
    if cfg["model_type"] != "qwen2" and cfg.get("attention_bias", False):
        raise ValueError("attention_bias on %s is not modelled here" % cfg["model_type"])
    return cfg["model_type"] == "qwen2"


def has_qk_norm(cfg):
    return cfg["model_type"] == "qwen3"


def tensor_specs(cfg):
    """[(HF name, shape, kind)] in HF state_dict order. kind is one of
    'embed', 'matrix', 'norm', 'bias'. lm_head.weight only when untied."""
    d = dims(cfg)
    C, NH, NKV, HD, I = d["C"], d["NH"], d["NKV"], d["HD"], d["I"]
    out = [("model.embed_tokens.weight", (d["V"], C), "embed")]
    for i in range(d["L"]):
        p = "model.layers.%d." % i
        out.append((p + "self_attn.q_proj.weight", (NH * HD, C), "matrix"))
        if has_bias(cfg):
            out.append((p + "self_attn.q_proj.bias", (NH * HD,), "bias"))
        out.append((p + "self_attn.k_proj.weight", (NKV * HD, C), "matrix"))
        if has_bias(cfg):
            out.append((p + "self_attn.k_proj.bias", (NKV * HD,), "bias"))
        out.append((p + "self_attn.v_proj.weight", (NKV * HD, C), "matrix"))
        if has_bias(cfg):
            out.append((p + "self_attn.v_proj.bias", (NKV * HD,), "bias"))
        out.append((p + "self_attn.o_proj.weight", (C, NH * HD), "matrix"))
        if has_qk_norm(cfg):
            out.append((p + "self_attn.q_norm.weight", (HD,), "norm"))
            out.append((p + "self_attn.k_norm.weight", (HD,), "norm"))
        out.append((p + "mlp.gate_proj.weight", (I, C), "matrix"))
        out.append((p + "mlp.up_proj.weight", (I, C), "matrix"))
        out.append((p + "mlp.down_proj.weight", (C, I), "matrix"))
        out.append((p + "input_layernorm.weight", (C,), "norm"))
        out.append((p + "post_attention_layernorm.weight", (C,), "norm"))
    out.append(("model.norm.weight", (C,), "norm"))
    if not cfg["tie_word_embeddings"]:
        out.append(("lm_head.weight", (d["V"], C), "embed"))
    return out


def init_weights(cfg, seed, std=0.02, norm_std=0.1, bias_std=0.1, embed_std=None,
                 fan_in=False):
    """Seeded random float32 weights, drawn in tensor_specs order from numpy's
    PCG64 stream (default_rng(seed)) in float64, then rounded to float32:
      embeddings (and lm_head)  N(0, embed_std^2)   (embed_std defaults to std)
      matrices                  N(0, std^2), or N(0, 1/fan_in) if fan_in
      norms                     1 + N(0, norm_std^2)
      biases                    N(0, bias_std^2)"""
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape, kind in tensor_specs(cfg):
        z = rng.standard_normal(shape)
        if kind == "norm":
            w = 1.0 + norm_std * z
        elif kind == "bias":
            w = bias_std * z
        elif kind == "embed":
            w = (std if embed_std is None else embed_std) * z
        else:
            w = (1.0 / math.sqrt(shape[1]) if fan_in else std) * z
        out[name] = w.astype(np.float32)
    return out


# ----------------------------------------------------------------- model --

def rms_norm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def positions_of(seq_start, bugs=()):
    """Position ids: 0.. within each sequence (or global if the bug asks)."""
    n = seq_start[-1]
    if "positions_global" in bugs:
        return torch.arange(n)
    return torch.cat([torch.arange(seq_start[b + 1] - seq_start[b])
                      for b in range(len(seq_start) - 1)])


def rope_tables(cfg, pos, dtype):
    """cos, sin of shape (N, HD): HF default RoPE, computed in float64 then
    cast (HF computes inv_freq and the angles in float32)."""
    hd = dims(cfg)["HD"]
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    ang = pos.to(torch.float64)[:, None] * inv[None, :]
    emb = torch.cat((ang, ang), dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def apply_rope(x, cos, sin, bugs=()):
    """x: (N, H, HD). HF non-interleaved rotate_half convention."""
    if "no_rope" in bugs:
        return x
    if "rope_interleaved" in bugs:  # GPT-J style pairs (0,1),(2,3),...: wrong for HF
        hd = x.shape[-1]
        c = cos[:, None, : hd // 2].repeat_interleave(2, dim=-1)
        s = sin[:, None, : hd // 2].repeat_interleave(2, dim=-1)
        x2 = torch.stack((-x[..., 1::2], x[..., 0::2]), dim=-1).reshape(x.shape)
        return x * c + x2 * s
    return x * cos[:, None, :] + rotate_half(x) * sin[:, None, :]


def forward(cfg, P, tokens, seq_start, bugs=()):
    """Final-norm hidden states (N, C) and logits (N, V) for a packed batch:
    tokens (N,) int64, seq_start (B+1,) python ints, sequence b is
    tokens[seq_start[b]:seq_start[b+1]]. P maps HF names to tensors (one
    dtype). `bugs` injects known mistakes (for the sensitivity check only)."""
    d = dims(cfg)
    NH, NKV, HD = d["NH"], d["NKV"], d["HD"]
    eps = cfg["rms_norm_eps"]
    if "wrong_eps" in bugs:  # 1e-5 <-> 1e-6
        eps = 1e-5 if eps != 1e-5 else 1e-6
    emb = P["model.embed_tokens.weight"]
    dt = emb.dtype
    N = tokens.shape[0]
    grp = NH // NKV
    cos, sin = rope_tables(cfg, positions_of(seq_start, bugs), dt)
    x = emb[tokens]
    bias = has_bias(cfg) and "no_bias" not in bugs
    nw = (lambda w: torch.ones_like(w)) if "norm_weight_ignored" in bugs else (lambda w: w)
    for i in range(d["L"]):
        p = "model.layers.%d." % i
        h = rms_norm(x, nw(P[p + "input_layernorm.weight"]), eps)
        q = h @ P[p + "self_attn.q_proj.weight"].T
        k = h @ P[p + "self_attn.k_proj.weight"].T
        v = h @ P[p + "self_attn.v_proj.weight"].T
        if bias:
            q = q + P[p + "self_attn.q_proj.bias"]
            k = k + P[p + "self_attn.k_proj.bias"]
            v = v + P[p + "self_attn.v_proj.bias"]
        q = q.view(N, NH, HD)
        k = k.view(N, NKV, HD)
        v = v.view(N, NKV, HD)
        if has_qk_norm(cfg) and "no_qk_norm" not in bugs:
            q = rms_norm(q, nw(P[p + "self_attn.q_norm.weight"]), eps)
            k = rms_norm(k, nw(P[p + "self_attn.k_norm.weight"]), eps)
        q = apply_rope(q, cos, sin, bugs)
        k = apply_rope(k, cos, sin, bugs)
        if "gqa_modulo" in bugs:  # query head h -> kv head h % NKV (wrong)
            kk = k.repeat(1, grp, 1)
            vv = v.repeat(1, grp, 1)
        else:                     # query head h -> kv head h // grp (HF repeat_kv)
            kk = k.repeat_interleave(grp, dim=1)
            vv = v.repeat_interleave(grp, dim=1)
        scale = 1.0 / HD if "scale_1_over_hd" in bugs else 1.0 / math.sqrt(HD)
        outs = []
        spans = [(seq_start[b], seq_start[b + 1]) for b in range(len(seq_start) - 1)]
        if "cross_seq_attention" in bugs:
            spans = [(0, N)]
        for s, e in spans:
            T = e - s
            sc = torch.einsum("thd,uhd->htu", q[s:e], kk[s:e]) * scale
            if "no_causal" not in bugs:
                mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
                sc = sc.masked_fill(mask, float("-inf"))
            pr = torch.softmax(sc, dim=-1)
            outs.append(torch.einsum("htu,uhd->thd", pr, vv[s:e]))
        a = torch.cat(outs, dim=0).reshape(N, NH * HD)
        x = x + a @ P[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, nw(P[p + "post_attention_layernorm.weight"]), eps)
        g = h @ P[p + "mlp.gate_proj.weight"].T
        u = h @ P[p + "mlp.up_proj.weight"].T
        if "gelu" in bugs:
            act = torch.nn.functional.gelu(g)
        else:
            act = g * torch.sigmoid(g)
        x = x + (act * u) @ P[p + "mlp.down_proj.weight"].T
    hf = rms_norm(x, nw(P["model.norm.weight"]), eps)
    w_lm = P["lm_head.weight"] if "lm_head.weight" in P else emb
    return hf, hf @ w_lm.T


def token_stats(logits, targets):
    """Per-token log-prob of the target (0 where target < 0) and entropy of
    the full softmax: H = -sum_v p_v log p_v."""
    logp = torch.log_softmax(logits, dim=-1)
    ent = -(logp.exp() * logp).sum(-1)
    t = targets.clamp(min=0)
    lp = logp.gather(1, t[:, None])[:, 0]
    lp = torch.where(targets >= 0, lp, torch.zeros_like(lp))
    return lp, ent


def objective(cfg, P, inp, bugs=()):
    """J = sum_i w_lp[i] * logprob[i] + w_ent[i] * entropy[i]; returns
    (J, logprobs, entropy, hidden_final, logits)."""
    hf, logits = forward(cfg, P, inp["tokens"], inp["seq_start"], bugs)
    lp, ent = token_stats(logits, inp["targets"])
    dt = logits.dtype
    J = (inp["w_lp"].to(dt) * lp).sum() + (inp["w_ent"].to(dt) * ent).sum()
    return J, lp, ent, hf, logits


def params_to_torch(weights, dtype, requires_grad=False):
    """{name: np.float32} -> {name: torch tensor of dtype} (a fresh copy)."""
    return {k: torch.tensor(np.asarray(v), dtype=dtype).requires_grad_(requires_grad)
            for k, v in weights.items()}


def greedy(cfg, P, prompt_ids, steps):
    """Greedy continuation of one prompt: ids, log-probs of the chosen ids,
    and the logit gap between the best and second-best token at each step."""
    ids = list(prompt_ids)
    out, lps, gaps = [], [], []
    for _ in range(steps):
        _, logits = forward(cfg, P, torch.tensor(ids), [0, len(ids)])
        last = logits[-1]
        top = torch.topk(last, 2)
        nxt = int(top.indices[0])
        lps.append(float(torch.log_softmax(last, -1)[nxt]))
        gaps.append(float(top.values[0] - top.values[1]))
        out.append(nxt)
        ids.append(nxt)
    return out, lps, gaps
