#!/usr/bin/python3
"""make_hf_fixtures.py: writes tests/fixtures/hf/, tiny random Qwen2, Llama
and Qwen3 models as Hugging Face directories (config.json,
generation_config.json, safetensors, a byte-level tokenizer.json) with
reference log-probs computed by an independent PyTorch model, plus hostile
safetensors files for the reader's error paths (issue 3).

Not for: the training fixtures (make_model_fixtures.py) or real models.
Needs Debian's python3-torch and python3-numpy; no transformers, safetensors
or tokenizers package (the formats are written by hand here):

    /usr/bin/python3 scripts/make_hf_fixtures.py
    /usr/bin/python3 scripts/make_hf_fixtures.py --check   # + fp32 errors, HF tokenizers parity

--check also encodes the texts with the HF tokenizers library through node
(tests/npm/node_modules/@anush008/tokenizers) when it is installed.
Conventions: docs/fixtures.md.
"""
import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_model as fm  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "tests", "fixtures", "hf")
NPM_DIR = os.path.join(ROOT, "tests", "npm")

GREEDY_STEPS = 8
MAX_POS = 128

# ------------------------------------------------------------- tokenizer --

ADDED_TOKENS = [  # (id, content, special)
    (256, "<|endoftext|>", True),
    (257, "<|im_start|>", True),
    (258, "<|im_end|>", True),
    (259, "<think>", False),
]
ENDOFTEXT, IM_START, IM_END, THINK = 256, 257, 258, 259


def byte_symbols():
    """GPT-2's bytes_to_unicode as an ordered list of (byte, symbol): the
    printable bytes '!'..'~', 0xA1..0xAC, 0xAE..0xFF map to themselves, in
    that order; then every other byte b, in increasing order, maps to
    chr(256 + n) for n = 0, 1, ... The token id of a byte is its index in
    this list."""
    keep = (list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1))
            + list(range(0xAE, 0xFF + 1)))
    out = [(b, chr(b)) for b in keep]
    n = 0
    for b in range(256):
        if b not in keep:
            out.append((b, chr(256 + n)))
            n += 1
    return out


BYTE_TO_ID = {b: i for i, (b, _) in enumerate(byte_symbols())}
ID_TO_BYTE = {i: b for b, i in BYTE_TO_ID.items()}


def tokenizer_json():
    vocab = {sym: i for i, (_, sym) in enumerate(byte_symbols())}
    added = [{"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": sp} for i, c, sp in ADDED_TOKENS]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False,
                          "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": False,
                           "trim_offsets": False, "use_regex": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": False,
                    "trim_offsets": False, "use_regex": False},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": "", "end_of_word_suffix": "",
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": []},
    }


CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
          "message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
          "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")


def tokenizer_config_json():
    dec = {str(i): {"content": c, "lstrip": False, "normalized": False, "rstrip": False,
                    "single_word": False, "special": sp} for i, c, sp in ADDED_TOKENS}
    return {
        "add_bos_token": False,
        "add_prefix_space": False,
        "added_tokens_decoder": dec,
        "additional_special_tokens": ["<|im_start|>", "<|im_end|>"],
        "bos_token": None,
        "chat_template": CHATML,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|im_end|>",
        "errors": "replace",
        "model_max_length": MAX_POS,
        "pad_token": "<|endoftext|>",
        "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer",
        "unk_token": None,
    }


_ADDED_RE = re.compile("|".join(re.escape(c) for _, c, _ in
                                sorted(ADDED_TOKENS, key=lambda t: -len(t[1]))))
_ADDED_ID = {c: i for i, c, _ in ADDED_TOKENS}


def encode(text):
    """Ids of text: added tokens (special or not) matched first, leftmost;
    every other byte of the UTF-8 encoding is one token (no merges)."""
    ids, pos = [], 0
    for m in _ADDED_RE.finditer(text):
        ids += [BYTE_TO_ID[b] for b in text[pos:m.start()].encode("utf-8")]
        ids.append(_ADDED_ID[m.group(0)])
        pos = m.end()
    ids += [BYTE_TO_ID[b] for b in text[pos:].encode("utf-8")]
    return ids


def decode(ids):
    out = b""
    for i in ids:
        out += bytes([ID_TO_BYTE[i]]) if i < 256 else [c for j, c, _ in ADDED_TOKENS
                                                        if j == i][0].encode()
    return out.decode("utf-8")


# ---------------------------------------------------------------- models --

TEXTS = [  # (prompt, completion)
    ("The quick brown fox", " jumps over the lazy dog."),
    ("Question: what is 12 + 30?\nAnswer:", " 42"),
    ("def add(a, b):\n\treturn", " a + b\n"),
    ("你好，世界。", "今天天气很好！"),
    ("<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
     "<think>2+2=4</think> The answer is 4.<|im_end|>"),
    ("A", "B"),
]

BASE = dict(vocab=260, hidden=32, layers=2, inter=48, max_pos=MAX_POS, bos=ENDOFTEXT)


def model_specs():
    """dir name -> (weight seed name, config, generation_config, dtype, shards).
    Llama exists only sharded (it is also the fp32 Llama; single files are
    covered by the Qwen dirs), to keep the fixtures small."""
    qwen2 = fm.make_config("qwen2", heads=4, kv_heads=2, tied=True, rope_theta=1e6,
                           rms_eps=1e-6, eos=ENDOFTEXT, explicit=False, **BASE)
    llama = fm.make_config("llama", heads=4, kv_heads=1, tied=False, rope_theta=1e4,
                           rms_eps=1e-5, eos=ENDOFTEXT, explicit=False, **BASE)
    qwen3 = fm.make_config("qwen3", heads=4, kv_heads=2, head_dim=16, tied=True,
                           rope_theta=1e6, rms_eps=1e-6, eos=IM_END, explicit=False, **BASE)
    gen_chat = {"bos_token_id": ENDOFTEXT, "do_sample": True, "eos_token_id": [IM_END, ENDOFTEXT],
                "pad_token_id": ENDOFTEXT, "repetition_penalty": 1.05, "temperature": 0.7,
                "top_k": 20, "top_p": 0.8}
    gen_llama = {"bos_token_id": ENDOFTEXT, "do_sample": True, "eos_token_id": ENDOFTEXT,
                 "temperature": 0.6, "top_p": 0.9}
    bf16 = dict(qwen2, torch_dtype="bfloat16")
    return {
        "qwen2_fp32": ("qwen2", qwen2, gen_chat, "F32", 1),
        "qwen2_bf16": ("qwen2", bf16, gen_chat, "BF16", 1),
        "llama_fp32_sharded": ("llama", llama, gen_llama, "F32", 2),
        "qwen3_fp32": ("qwen3", qwen3, gen_chat, "F32", 1),
    }


def hf_weights(cfg, seed_name):
    """Fan-in scaled weights so attention is far from uniform and every part
    of the model moves the log-probs (docs/fixtures.md, sensitivity)."""
    return fm.init_weights(cfg, zlib.crc32(seed_name.encode()), embed_std=0.05, fan_in=True)


def bf16_round(a):
    """float32 array -> (bf16 bit patterns as uint16, values as float32),
    rounding to nearest even (torch's float32 -> bfloat16 cast)."""
    t = torch.tensor(a).to(torch.bfloat16)
    bits = t.view(torch.int16).numpy().view(np.uint16)
    return bits, t.to(torch.float32).numpy()


# ----------------------------------------------------------- safetensors --

DTYPE_SIZE = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2,
              "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8}
MAX_HEADER = 100_000_000


def safetensors_bytes(tensors, metadata=None):
    """tensors: [(name, dtype, shape, raw little-endian bytes)]. Laid out like
    the reference writer: __metadata__ first, tensors sorted by name (all
    share one alignment here), offsets contiguous from 0, compact JSON header
    padded with spaces to a multiple of 8 bytes."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    off = 0
    blobs = []
    for name, dt, shape, raw in sorted(tensors, key=lambda t: t[0]):
        assert len(raw) == int(np.prod(shape, dtype=np.int64)) * DTYPE_SIZE[dt]
        header[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [off, off + len(raw)]}
        off += len(raw)
        blobs.append(raw)
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    return struct.pack("<Q", len(hb)) + hb + b"".join(blobs)


class StError(Exception):
    """A safetensors validation failure; .code is the reference library's
    error name (SafeTensorError::<code>)."""

    def __init__(self, code, detail=""):
        super().__init__("%s %s" % (code, detail))
        self.code = code


def safetensors_parse(buf):
    """Validates buf with the rules of the reference implementation
    (huggingface/safetensors, Metadata::validate and read_metadata) and
    returns {name: (dtype, shape, bytes)}. Raises StError."""
    if len(buf) < 8:
        raise StError("HeaderTooSmall")
    n = struct.unpack("<Q", buf[:8])[0]
    if n > MAX_HEADER:
        raise StError("HeaderTooLarge")
    if 8 + n > len(buf):
        raise StError("InvalidHeaderLength")
    raw = buf[8:8 + n]
    if not raw.startswith(b"{"):
        raise StError("InvalidHeaderStart")
    try:
        # A repeated key keeps its last value, as serde_json does for the
        # reference's map, so duplicates surface there as InvalidOffset.
        hdr = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise StError("InvalidHeaderDeserialization", str(e))
    hdr.pop("__metadata__", None)
    infos = []
    for name, info in hdr.items():
        if info["dtype"] not in DTYPE_SIZE:
            raise StError("InvalidHeaderDeserialization", "unknown dtype %r" % info["dtype"])
        for v in list(info["shape"]) + list(info["data_offsets"]):
            if not isinstance(v, int) or v < 0 or v >= 2 ** 64:
                raise StError("InvalidHeaderDeserialization", "%s: %r is not a u64" % (name, v))
        infos.append((name, info))
    infos.sort(key=lambda t: tuple(t[1]["data_offsets"]))
    start = 0
    for name, info in infos:
        s, e = info["data_offsets"]
        if s != start or e < s:
            raise StError("InvalidOffset", name)
        start = e
        nel = 1
        for d in info["shape"]:
            nel *= d
            if nel >= 2 ** 64:
                raise StError("ValidationOverflow", name)
        if nel * DTYPE_SIZE[info["dtype"]] >= 2 ** 64:
            raise StError("ValidationOverflow", name)
        if e - s != nel * DTYPE_SIZE[info["dtype"]]:
            raise StError("TensorInvalidInfo", name)
    if start + 8 + n != len(buf):
        raise StError("MetadataIncompleteBuffer")
    base = 8 + n
    return {name: (info["dtype"], tuple(info["shape"]),
                   buf[base + info["data_offsets"][0]: base + info["data_offsets"][1]])
            for name, info in infos}


def tensor_payload(weights, dtype):
    """[(name, dtype, shape, bytes)] and the float32 values the file holds."""
    out, vals = [], {}
    for name, w in weights.items():
        if dtype == "BF16":
            bits, v = bf16_round(w)
            out.append((name, "BF16", w.shape, bits.astype("<u2").tobytes()))
        else:
            v = w
            out.append((name, "F32", w.shape, w.astype("<f4").tobytes()))
        vals[name] = v
    return out, vals


def write_model_dir(name, spec, check):
    seed_name, cfg, gen, dtype, shards = spec
    d = os.path.join(OUT_DIR, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    weights = hf_weights(cfg, seed_name)
    payload, vals = tensor_payload(weights, dtype)
    meta = {"format": "pt"}
    if shards == 1:
        files = {"model.safetensors": payload}
    else:
        # Shard 1: embeddings and layer 0; shard 2: everything else.
        first = [t for t in payload if t[0].startswith(("model.embed_tokens.", "model.layers.0."))]
        rest = [t for t in payload if t not in first]
        files = {"model-00001-of-00002.safetensors": first,
                 "model-00002-of-00002.safetensors": rest}
        index = {"metadata": {"total_size": sum(len(t[3]) for t in payload)},
                 "weight_map": {t[0]: f for f, ts in files.items() for t in ts}}
        index["weight_map"] = dict(sorted(index["weight_map"].items()))
        write_text(os.path.join(d, "model.safetensors.index.json"),
                   json.dumps(index, indent=2) + "\n")
    for fname, ts in files.items():
        buf = safetensors_bytes(ts, meta)
        got = safetensors_parse(buf)  # the writer's output must pass the reader's rules
        assert set(got) == {t[0] for t in ts}
        with open(os.path.join(d, fname), "wb") as f:
            f.write(buf)
    write_text(os.path.join(d, "config.json"), fm.config_json(cfg))
    write_text(os.path.join(d, "generation_config.json"), json.dumps(gen, indent=2) + "\n")
    write_text(os.path.join(d, "tokenizer.json"),
               json.dumps(tokenizer_json(), indent=2, ensure_ascii=False) + "\n")
    write_text(os.path.join(d, "tokenizer_config.json"),
               json.dumps(tokenizer_config_json(), indent=2, ensure_ascii=False) + "\n")
    ref = reference(name, cfg, vals, dtype)
    write_text(os.path.join(d, "reference.json"), json_compact_lists(ref))
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    print("%-20s %7d bytes  min greedy margin %.3g" % (
        name, size, min(min(c["greedy"]["margins"]) for c in ref["cases"])))
    if check:
        report_fp32(cfg, weights if dtype == "F32" else vals, ref)


def json_compact_lists(obj):
    """Indented JSON with each list of numbers on one line; floats are
    printed by repr, which round-trips float64 exactly."""
    text = json.dumps(obj, indent=1, ensure_ascii=False)
    num = r"-?[0-9][0-9.eE+-]*"
    text = re.sub(r"\[\s*(%s(?:,\s*%s)*)\s*\]" % (num, num),
                  lambda m: "[" + ", ".join(re.split(r",\s*", m.group(1))) + "]", text)
    return text + "\n"


def write_text(path, text):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def completion_logprobs(cfg, P, p_ids, c_ids):
    """log p(c_ids[j] | p_ids + c_ids[:j]) for each j (temperature 1)."""
    ids = p_ids + c_ids
    _, logits = fm.forward(cfg, P, torch.tensor(ids), [0, len(ids)])
    logp = torch.log_softmax(logits, -1)
    n = len(p_ids)
    return [float(logp[n - 1 + j, c]) for j, c in enumerate(c_ids)]


def reference(name, cfg, vals, dtype):
    P = fm.params_to_torch(vals, torch.float64)
    cases = []
    for prompt, completion in TEXTS:
        p_ids, c_ids = encode(prompt), encode(completion)
        assert decode(p_ids) == prompt and decode(c_ids) == completion
        assert len(p_ids) + len(c_ids) + GREEDY_STEPS <= MAX_POS
        lps = completion_logprobs(cfg, P, p_ids, c_ids)
        g_ids, g_lps, gaps = fm.greedy(cfg, P, p_ids, GREEDY_STEPS)
        cases.append({"prompt": prompt, "completion": completion,
                      "prompt_ids": p_ids, "completion_ids": c_ids,
                      "logprobs": lps, "logprob_sum": sum(lps),
                      "greedy": {"ids": g_ids, "logprobs": g_lps, "margins": gaps}})
    return {
        "model": name,
        "weights_dtype": dtype,
        "computed_in": "float64 from the weights as stored in the safetensors file(s)",
        "tokenization": "prompt and completion encoded separately, no special tokens added; "
                        "the scored sequence is prompt_ids + completion_ids",
        "logprobs": "log-softmax at temperature 1 of each completion token given everything before it",
        "greedy": "argmax continuation of the prompt alone for %d steps (EOS not treated "
                  "specially); margins = best minus second-best logit" % GREEDY_STEPS,
        "cases": cases,
    }


def report_fp32(cfg, vals, ref):
    P = fm.params_to_torch(vals, torch.float32)
    worst = 0.0
    for c in ref["cases"]:
        lps = completion_logprobs(cfg, P, c["prompt_ids"], c["completion_ids"])
        worst = max(worst, max(abs(a - b) for a, b in zip(lps, c["logprobs"])))
        g_ids, _, _ = fm.greedy(cfg, P, c["prompt_ids"], GREEDY_STEPS)
        assert g_ids == c["greedy"]["ids"], "float32 greedy differs"
    print("  fp32 vs fp64: completion log-probs max abs %.2e; greedy ids equal" % worst)


# --------------------------------------------------------------- hostile --

def f32(*vals):
    return struct.pack("<%df" % len(vals), *vals)


def raw_file(header_text, data, header_len=None):
    hb = header_text.encode()
    n = len(hb) if header_len is None else header_len
    return struct.pack("<Q", n) + hb + data


def hostile_files():
    """name -> (bytes, the reference reader's error or None if it accepts the
    file, README line). grpo must load ok_mixed_dtypes and refuse the rest."""
    ok_tensors = [
        ("a_f32", "F32", (2, 2), f32(1.0, -2.0, 0.5, 3.25)),
        ("b_bf16", "BF16", (3,), struct.pack("<3H", 0x3F80, 0xC000, 0x3E00)),  # 1, -2, 0.125
        ("c_f32", "F32", (2,), f32(1.5, -0.75)),
        ("d_f16", "F16", (2,), struct.pack("<2H", 0x3C00, 0xB800)),  # 1, -0.5
    ]
    # Unsorted names so c_f32 follows the 6-byte b_bf16: its data starts at
    # offset 22, not a multiple of 4 (legal: offsets need only be contiguous).
    ok_hdr = ('{"__metadata__":{"format":"pt"},'
              '"a_f32":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},'
              '"b_bf16":{"dtype":"BF16","shape":[3],"data_offsets":[16,22]},'
              '"c_f32":{"dtype":"F32","shape":[2],"data_offsets":[22,30]},'
              '"d_f16":{"dtype":"F16","shape":[2],"data_offsets":[30,34]}}')
    ok_data = b"".join(t[3] for t in ok_tensors)
    two = '{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},%s}'
    return {
        "ok_mixed_dtypes.safetensors": (
            raw_file(ok_hdr, ok_data), None,
            "valid: F32 a_f32 [[1,-2],[0.5,3.25]], BF16 b_bf16 [1,-2,0.125], F32 c_f32 "
            "[1.5,-0.75] at data offset 22 (not 4-aligned), F16 d_f16 [1,-0.5]"),
        "truncated.safetensors": (
            raw_file('{"a":{"dtype":"F32","shape":[4,4],"data_offsets":[0,64]}}', f32(*range(10))),
            "MetadataIncompleteBuffer",
            "header promises 64 data bytes, the file has 40 (a download cut short)"),
        "overlapping_offsets.safetensors": (
            raw_file(two % '"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}', f32(*range(6))),
            "InvalidOffset", "tensor b [8,24] overlaps tensor a [0,16]"),
        "huge_header_len.safetensors": (
            raw_file('{}', b"", header_len=200_000_000), "HeaderTooLarge",
            "header length field claims 200,000,000 bytes (> 100 MB limit); file is 10 bytes"),
        "header_len_beyond_file.safetensors": (
            raw_file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32(1.0),
                     header_len=4096),
            "InvalidHeaderLength", "header length field is 4096, larger than the file"),
        "shape_overflow.safetensors": (
            raw_file('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
                     '"huge":{"dtype":"F32","shape":[1099511627776,1099511627776],'
                     '"data_offsets":[8,8]}}', f32(1.0, 2.0)),
            "ValidationOverflow",
            "shape [2^40, 2^40]: element count overflows 64 bits; wrapped arithmetic gives "
            "0 bytes, which would match its empty data_offsets [8,8]"),
        "shape_bytes_overflow.safetensors": (
            raw_file('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
                     '"huge":{"dtype":"F32","shape":[4611686018427387904],'
                     '"data_offsets":[8,8]}}', f32(1.0, 2.0)),
            "ValidationOverflow",
            "shape [2^62] fits in 64 bits but 2^62 x 4 bytes does not; wrapped it is 0, "
            "matching data_offsets [8,8]"),
        "unknown_dtype.safetensors": (
            raw_file('{"a":{"dtype":"F17","shape":[4],"data_offsets":[0,16]}}', f32(*range(4))),
            "InvalidHeaderDeserialization", "dtype \"F17\" does not exist"),
        "unsupported_dtype_i64.safetensors": (
            raw_file('{"a":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}',
                     struct.pack("<2q", 1, 2)),
            None,
            "valid safetensors (I64 is a real dtype), but grpo converts only F32, BF16 "
            "and F16: the message should name the dtype"),
        "duplicate_names.safetensors": (
            raw_file('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},'
                     '"a":{"dtype":"F32","shape":[4],"data_offsets":[16,32]}}', f32(*range(8))),
            "InvalidOffset", "tensor name \"a\" appears twice in the header JSON (the reference "
            "keeps the last entry, so bytes [0,16] have no owner); grpo should name the duplicate"),
        "gap_offsets.safetensors": (
            raw_file(two % '"b":{"dtype":"F32","shape":[4],"data_offsets":[20,36]}', f32(*range(9))),
            "InvalidOffset", "4-byte hole between a [0,16] and b [20,36]"),
        "offsets_beyond_file.safetensors": (
            raw_file(two % '"b":{"dtype":"F32","shape":[250],"data_offsets":[16,1016]}',
                     f32(*range(8))),
            "MetadataIncompleteBuffer", "b ends at data offset 1016; the data section is 32 bytes"),
        "shape_dtype_mismatch.safetensors": (
            raw_file('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,12]}}', f32(*range(3))),
            "TensorInvalidInfo", "F32 [4] needs 16 bytes, data_offsets give 12"),
        "header_not_json.safetensors": (
            raw_file('{"a":{"dtype":"F32","shape":[4],"data_offs', f32(*range(4))),
            "InvalidHeaderDeserialization", "the header is cut-off JSON"),
        "header_too_small.safetensors": (
            b"\x10\x00\x00\x00\x00", "HeaderTooSmall", "5-byte file: no room for the length field"),
        "negative_offset.safetensors": (
            raw_file('{"a":{"dtype":"F32","shape":[4],"data_offsets":[-16,0]}}', f32(*range(4))),
            "InvalidHeaderDeserialization",
            "data_offsets [-16,0]: offsets are unsigned in the reference (JSON parse error)"),
    }


def write_hostile():
    d = os.path.join(OUT_DIR, "hostile")
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    lines = ["# Hostile safetensors files",
             "",
             "Made by `scripts/make_hf_fixtures.py`. Each file is checked there against a",
             "re-implementation of the reference reader's rules (huggingface/safetensors);",
             "`reference` is the error that reader gives (`SafeTensorError::<name>`), or",
             "`ok` if it accepts the file. `grpo` is what grpo must do: refuse with a",
             "message naming the file and the problem, never crash or read out of bounds",
             "(run the test under ASan).",
             "",
             "| file | reference | grpo | what it is |",
             "|---|---|---|---|"]
    for name, (buf, expect, what) in hostile_files().items():
        try:
            safetensors_parse(buf)
            got = None
        except StError as e:
            got = e.code
        except (KeyError, TypeError) as e:
            got = "malformed: %s" % e
        assert got == expect, "%s: expected %s, got %s" % (name, expect, got)
        with open(os.path.join(d, name), "wb") as f:
            f.write(buf)
        grpo = "load" if name.startswith("ok_") else "refuse"
        lines.append("| `%s` | %s | %s | %s |" % (name, expect or "ok", grpo, what))
    write_text(os.path.join(d, "README.md"), "\n".join(lines) + "\n")
    print("hostile/             %7d bytes  %d files" % (
        sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)), len(os.listdir(d))))


# ----------------------------------------------------------------- check --

MODEL_BUGS = ("positions_global", "no_rope", "rope_interleaved", "gqa_modulo",
              "no_qk_norm", "no_bias", "no_causal", "scale_1_over_hd",
              "norm_weight_ignored", "wrong_eps", "gelu")


def sensitivity():
    """Largest change of any reference completion log-prob under each
    injected bug, for the weights used here (fan-in) and for HF's default
    init N(0, 0.02) (which is why the fixtures do not use it)."""
    for name, (seed_name, cfg, _, dtype, _) in model_specs().items():
        if dtype != "F32":
            continue
        for label, w in (("fan-in", hf_weights(cfg, seed_name)),
                         ("N(0,0.02)", fm.init_weights(cfg, zlib.crc32(seed_name.encode())))):
            P = fm.params_to_torch(w, torch.float64)
            row = []
            for bug in MODEL_BUGS:
                worst = 0.0
                for prompt, completion in TEXTS:
                    p_ids, c_ids = encode(prompt), encode(completion)
                    ids = torch.tensor(p_ids + c_ids)
                    base = torch.log_softmax(fm.forward(cfg, P, ids, [0, len(ids)])[1], -1)
                    bad = torch.log_softmax(fm.forward(cfg, P, ids, [0, len(ids)], (bug,))[1], -1)
                    n = len(p_ids)
                    rows = torch.arange(n - 1, len(ids) - 1)
                    tgt = torch.tensor(c_ids)
                    worst = max(worst, float((bad[rows, tgt] - base[rows, tgt]).abs().max()))
                if worst > 0:
                    row.append("%s %.1e" % (bug, worst))
            print("%-20s %-9s max |d logprob|: %s" % (name, label, ", ".join(row)))

NODE_ENCODE = r"""
import { createRequire } from "module";
const require = createRequire(process.argv[1]);
const { Tokenizer } = require("@anush008/tokenizers");
const inp = JSON.parse(require("fs").readFileSync(0, "utf8"));
const tok = Tokenizer.fromFile(inp.tokenizer);
const out = [];
for (const t of inp.texts) {
  const e = await tok.encode(t, null, { addSpecialTokens: false });
  const ids = e.getIds();
  out.push({ ids, text: await tok.decode(ids, false) });
}
console.log(JSON.stringify(out));
"""


def check_hf_tokenizers():
    """Encodes and decodes TEXTS with the HF tokenizers library (node
    binding) and compares with encode()/decode() here."""
    nm = os.path.join(NPM_DIR, "node_modules")
    if not (shutil.which("node") and os.path.isdir(os.path.join(nm, "@anush008", "tokenizers"))):
        print("tokenizer check skipped: node or tests/npm/node_modules/@anush008/tokenizers missing")
        return
    texts = [t for pair in TEXTS for t in pair] + ["".join(p) for p in TEXTS] + [
        "<think><think>x</think>", "\x00\x01 \x7f\xa0\xad tab\there\r\n", "emoji 🙂 ok"]
    tk = os.path.join(OUT_DIR, "qwen2_fp32", "tokenizer.json")
    r = subprocess.run(
        ["node", "--input-type=module", "-e", NODE_ENCODE, os.path.join(NPM_DIR, "package.json")],
        input=json.dumps({"tokenizer": tk, "texts": texts}),
        capture_output=True, text=True, check=True, cwd=NPM_DIR)
    got = json.loads(r.stdout)
    for t, g in zip(texts, got):
        assert g["ids"] == encode(t), "HF tokenizers disagrees on %r: %s vs %s" % (
            t, g["ids"], encode(t))
        assert g["text"] == t, "HF tokenizers decodes %r to %r" % (t, g["text"])
    print("tokenizer check: HF tokenizers gives the same ids and round trip on %d texts"
          % len(texts))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="also run in float32 and compare the tokenizer with HF tokenizers")
    ap.add_argument("--sensitivity", action="store_true",
                    help="write nothing; print how far injected bugs move the reference log-probs")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.sensitivity:
        sensitivity()
        return
    os.makedirs(OUT_DIR, exist_ok=True)
    known = set(model_specs()) | {"hostile"}
    for entry in os.listdir(OUT_DIR):
        if entry not in known:
            print("note: %s is not made by this script" % os.path.join(OUT_DIR, entry))
    for name, spec in model_specs().items():
        write_model_dir(name, spec, args.check)
    write_hostile()
    if args.check:
        check_hf_tokenizers()


if __name__ == "__main__":
    main()
