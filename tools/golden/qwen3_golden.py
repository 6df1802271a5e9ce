#!/usr/bin/python3
"""Golden fixtures for the Qwen3 model engine: forward logits, loss and every gradient.

Runs with Debian's /usr/bin/python3 (torch CPU; no `transformers`, no `safetensors`), so the
Qwen3 forward below is written in plain torch, step for step as HF `Qwen3ForCausalLM` does it:

  embedding -> per layer [RMSNorm -> q/k/v proj (no bias) -> per-head q_norm/k_norm (RMSNorm over
  head_dim) -> RoPE (rotate_half) -> GQA causal softmax attention (scale 1/sqrt(head_dim)) -> o_proj
  -> residual; RMSNorm -> down(silu(gate(x)) * up(x)) -> residual] -> final RMSNorm -> lm_head
  (the embedding matrix when tie_word_embeddings).

Weights are drawn in float32 and saved as F32 (and a BF16 copy); every computation runs in
float64 from those exact float32 values, so the fixture is a reference, not another f32 run.

Writes, for each config (tied, untied), into tests/fixtures/qwen3_tiny/<name>/:
  config.json              HF-style Qwen3 config
  model.safetensors        F32 weights, HF tensor names
  model.bf16.safetensors   the same weights rounded to bfloat16 (round to nearest even)
  grads.safetensors        F64 gradient of the loss w.r.t. every parameter, HF names
  golden.json              inputs, logits, next-token logprobs, loss, weight/grad checksums

Usage: /usr/bin/python3 tools/golden/qwen3_golden.py [OUT_DIR]
"""
import json
import math
import os
import struct
import sys

import torch

BASE = {
    "architectures": ["Qwen3ForCausalLM"],
    "model_type": "qwen3",
    "attention_bias": False,
    "attention_dropout": 0.0,
    "hidden_act": "silu",
    "vocab_size": 97,
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 8,
    "rms_norm_eps": 1e-6,
    "rope_theta": 10000.0,
    "rope_scaling": None,
    "max_position_embeddings": 128,
    "initializer_range": 0.2,
    "use_sliding_window": False,
    "sliding_window": None,
    "bos_token_id": 0,
    "eos_token_id": 1,
    "torch_dtype": "float32",
}
SEQ_LENS = [7, 12]


def expected_tensors(cfg):
    """HF tensor names and shapes, in the order weights are drawn."""
    h, i, d = cfg["hidden_size"], cfg["intermediate_size"], cfg["head_dim"]
    hq, hkv, v = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["vocab_size"]
    out = [("model.embed_tokens.weight", [v, h])]
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        out += [
            (p + "input_layernorm.weight", [h]),
            (p + "self_attn.q_proj.weight", [hq * d, h]),
            (p + "self_attn.k_proj.weight", [hkv * d, h]),
            (p + "self_attn.v_proj.weight", [hkv * d, h]),
            (p + "self_attn.o_proj.weight", [h, hq * d]),
            (p + "self_attn.q_norm.weight", [d]),
            (p + "self_attn.k_norm.weight", [d]),
            (p + "post_attention_layernorm.weight", [h]),
            (p + "mlp.gate_proj.weight", [i, h]),
            (p + "mlp.up_proj.weight", [i, h]),
            (p + "mlp.down_proj.weight", [h, i]),
        ]
    out.append(("model.norm.weight", [h]))
    if not cfg["tie_word_embeddings"]:
        out.append(("lm_head.weight", [v, h]))
    return out


def init_weights(cfg, gen):
    """float32 weights: normal(0, 0.2) for matrices, 1 + normal(0, 0.2) for norm weights."""
    std = cfg["initializer_range"]
    w = {}
    for name, shape in expected_tensors(cfg):
        r = torch.randn(*shape, generator=gen, dtype=torch.float32)
        w[name] = (1.0 + 0.2 * r) if len(shape) == 1 else (std * r)
    return w


def rms_norm(x, w, eps):
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def forward(cfg, p, ids):
    """Logits [T, V] for one sequence; p maps HF names to float64 tensors."""
    h, d = cfg["hidden_size"], cfg["head_dim"]
    hq, hkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    eps = cfg["rms_norm_eps"]
    t = len(ids)
    x = p["model.embed_tokens.weight"][torch.tensor(ids)]  # [T, H]
    dt = x.dtype  # float64 for the golden fixture; float32 for the bench reference
    inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, d, 2, dtype=dt) / d))
    freqs = torch.arange(t, dtype=dt)[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)  # [T, d]
    cos, sin = emb.cos(), emb.sin()
    mask = torch.full((t, t), float("-inf"), dtype=dt).triu(1)
    for l in range(cfg["num_hidden_layers"]):
        q_ = f"model.layers.{l}."
        a = rms_norm(x, p[q_ + "input_layernorm.weight"], eps)
        q = (a @ p[q_ + "self_attn.q_proj.weight"].T).view(t, hq, d)
        k = (a @ p[q_ + "self_attn.k_proj.weight"].T).view(t, hkv, d)
        v = (a @ p[q_ + "self_attn.v_proj.weight"].T).view(t, hkv, d)
        q = rms_norm(q, p[q_ + "self_attn.q_norm.weight"], eps).transpose(0, 1)  # [hq, T, d]
        k = rms_norm(k, p[q_ + "self_attn.k_norm.weight"], eps).transpose(0, 1)  # [hkv, T, d]
        v = v.transpose(0, 1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = hq // hkv
        k = k.repeat_interleave(rep, dim=0)  # HF repeat_kv: kv head j serves q heads j*rep..
        v = v.repeat_interleave(rep, dim=0)
        s = (q @ k.transpose(1, 2)) * (d ** -0.5) + mask
        o = torch.softmax(s, dim=-1) @ v  # [hq, T, d]
        o = o.transpose(0, 1).reshape(t, hq * d)
        x = x + o @ p[q_ + "self_attn.o_proj.weight"].T
        m = rms_norm(x, p[q_ + "post_attention_layernorm.weight"], eps)
        g = m @ p[q_ + "mlp.gate_proj.weight"].T
        u = m @ p[q_ + "mlp.up_proj.weight"].T
        x = x + (torch.nn.functional.silu(g) * u) @ p[q_ + "mlp.down_proj.weight"].T
    x = rms_norm(x, p["model.norm.weight"], eps)
    head = p["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else p["lm_head.weight"]
    return x @ head.T


def write_safetensors(path, tensors, dtype, metadata=None):
    """tensors: list of (name, torch tensor). dtype: F32 | BF16 | F64. Sorted names, header
    padded with spaces to a multiple of 8, little-endian data."""
    header, blobs, off = {}, [], 0
    for name, t in sorted(tensors, key=lambda kv: kv[0]):
        t = t.detach().contiguous()
        if dtype == "F32":
            raw = t.to(torch.float32).numpy().astype("<f4").tobytes()
        elif dtype == "F64":
            raw = t.to(torch.float64).numpy().astype("<f8").tobytes()
        elif dtype == "BF16":
            raw = t.to(torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes()
        else:
            raise ValueError(dtype)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def checksum(t):
    t = t.detach().to(torch.float64).reshape(-1)
    return {
        "shape": None,
        "sum": t.sum().item(),
        "abs_sum": t.abs().sum().item(),
        "l2": t.norm().item(),
        "first": [x for x in t[:4].tolist()],
    }


def build(name, tied, out_root, seed):
    cfg = dict(BASE)
    cfg["tie_word_embeddings"] = tied
    gen = torch.Generator().manual_seed(seed)
    w32 = init_weights(cfg, gen)
    seqs = [torch.randint(0, cfg["vocab_size"], (n,), generator=gen).tolist() for n in SEQ_LENS]

    p = {k: v.to(torch.float64).requires_grad_(True) for k, v in w32.items()}
    total_nll, count, per_seq = None, 0, []
    for ids in seqs:
        logits = forward(cfg, p, ids)
        lp = torch.log_softmax(logits, dim=-1)
        tgt = torch.tensor(ids[1:])
        tok_lp = lp[:-1].gather(1, tgt[:, None])[:, 0]
        nll = -tok_lp.sum()
        total_nll = nll if total_nll is None else total_nll + nll
        count += len(ids) - 1
        per_seq.append({
            "input_ids": ids,
            "logits": logits.detach().tolist(),
            "next_token_logprobs": tok_lp.detach().tolist(),
            "loss": (nll / (len(ids) - 1)).item(),
        })
    loss = total_nll / count
    loss.backward()

    out = os.path.join(out_root, name)
    os.makedirs(out, exist_ok=True)
    order = [n for n, _ in expected_tensors(cfg)]
    write_safetensors(os.path.join(out, "model.safetensors"), [(n, w32[n]) for n in order], "F32",
                      {"format": "pt"})
    write_safetensors(os.path.join(out, "model.bf16.safetensors"), [(n, w32[n]) for n in order],
                      "BF16", {"format": "pt"})
    write_safetensors(os.path.join(out, "grads.safetensors"), [(n, p[n].grad) for n in order],
                      "F64", {"format": "pt", "what": "d loss / d param, float64"})
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")

    def sums(src):
        res = {}
        for n in order:
            c = checksum(src[n])
            c["shape"] = list(src[n].shape)
            res[n] = c
        return res

    golden = {
        "description": "Qwen3 reference forward/backward in float64 (tools/golden/qwen3_golden.py)",
        "config": name,
        "seed": seed,
        "tie_word_embeddings": tied,
        "sequences": per_seq,
        "num_predicted_tokens": count,
        "loss": loss.item(),
        "params": sums({n: w32[n] for n in order}),
        "grads": sums({n: p[n].grad for n in order}),
        "grads_file": "grads.safetensors",
    }
    with open(os.path.join(out, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    print(f"{name}: loss {loss.item():.12f}, {count} tokens, {sum(v.numel() for v in w32.values())} params",
          file=sys.stderr)


def main():
    torch.set_grad_enabled(True)
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "qwen3_tiny")
    build("tied", True, root, 1234)
    build("untied", False, root, 5678)


if __name__ == "__main__":
    main()
