"""PyTorch CPU reference for `golongrl bench model`: the same Qwen3 training step.

Run with Debian's python3 (python3-torch). Reads one JSON object on stdin:
  {"config": {...HF Qwen3 config...}, "seqs": S, "seq_len": T, "steps": N, "threads": 2}
Builds the model with the golden script's forward (plain torch, HF Qwen3 math) in float32,
then times N steps of: forward over S sequences, mean cross-entropy, backward, AdamW.
Prints one JSON object: tokens_per_s, ms_per_step, threads, torch version, BLAS.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
import torch  # noqa: E402
import qwen3_golden as q  # noqa: E402


def forward_batched(cfg, p, ids):
    """The golden forward for a [B, T] batch of equal-length sequences (float32)."""
    b, t = ids.shape
    h, d = cfg["hidden_size"], cfg["head_dim"]
    hq, hkv, eps = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["rms_norm_eps"]
    x = p["model.embed_tokens.weight"][ids]  # [B, T, H]
    inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, d, 2, dtype=x.dtype) / d))
    freqs = torch.arange(t, dtype=x.dtype)[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.full((t, t), float("-inf"), dtype=x.dtype).triu(1)
    for l in range(cfg["num_hidden_layers"]):
        n = f"model.layers.{l}."
        a = q.rms_norm(x, p[n + "input_layernorm.weight"], eps)
        qq = (a @ p[n + "self_attn.q_proj.weight"].T).view(b, t, hq, d)
        k = (a @ p[n + "self_attn.k_proj.weight"].T).view(b, t, hkv, d)
        v = (a @ p[n + "self_attn.v_proj.weight"].T).view(b, t, hkv, d)
        qq = q.rms_norm(qq, p[n + "self_attn.q_norm.weight"], eps).transpose(1, 2)
        k = q.rms_norm(k, p[n + "self_attn.k_norm.weight"], eps).transpose(1, 2)
        v = v.transpose(1, 2)
        qq = qq * cos + q.rotate_half(qq) * sin
        k = k * cos + q.rotate_half(k) * sin
        rep = hq // hkv
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        s = (qq @ k.transpose(2, 3)) * (d ** -0.5) + mask
        o = (torch.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(b, t, hq * d)
        x = x + o @ p[n + "self_attn.o_proj.weight"].T
        m = q.rms_norm(x, p[n + "post_attention_layernorm.weight"], eps)
        g = m @ p[n + "mlp.gate_proj.weight"].T
        u = m @ p[n + "mlp.up_proj.weight"].T
        x = x + (torch.nn.functional.silu(g) * u) @ p[n + "mlp.down_proj.weight"].T
    x = q.rms_norm(x, p["model.norm.weight"], eps)
    head = p["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else p["lm_head.weight"]
    return x @ head.T


def main():
    job = json.load(sys.stdin)
    cfg = job["config"]
    torch.set_num_threads(int(job.get("threads", 2)))
    gen = torch.Generator().manual_seed(0)
    cfg = dict(cfg, initializer_range=0.02)
    params = {k: v.requires_grad_(True) for k, v in q.init_weights(cfg, gen).items()}
    opt = torch.optim.AdamW(params.values(), lr=1e-3, weight_decay=0.0)
    s, t, v = job["seqs"], job["seq_len"], cfg["vocab_size"]
    ids = torch.randint(0, v, (s, t), generator=gen)

    def step():
        opt.zero_grad()
        logits = forward_batched(cfg, params, ids)
        loss = torch.nn.functional.cross_entropy(
            logits[:, :-1].reshape(-1, v), ids[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params.values(), 1.0)
        opt.step()

    step()  # warm-up
    best = float("inf")
    for _ in range(job["steps"]):
        t0 = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - t0)
    blas = "unknown"
    try:
        cfgstr = torch.__config__.show()
        blas = "openblas" if "openblas" in cfgstr.lower() else ("mkl" if "mkl" in cfgstr.lower() else "other")
    except Exception:
        pass
    print(json.dumps({
        "tokens_per_s": s * t / best,
        "ms_per_step": best * 1000,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "blas_build": blas,
    }))


if __name__ == "__main__":
    main()
