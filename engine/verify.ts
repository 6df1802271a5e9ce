/**
 * Checks of a checkpoint folder that need no tensor data: the config against every tensor
 * header (names, shapes; the headers themselves are validated for truncation and size by
 * safetensors.ts), and whether a folder already holds a checkpoint that a write would destroy.
 *
 * @module
 */
import { InputError } from "../core/errors.ts";
import { joinPath } from "../core/fsutil.ts";
import { expectedTensors, type Qwen3Config, readConfig } from "./model_config.ts";
import { openSafetensorsDir, type SafetensorsSet } from "./safetensors.ts";

/** A checkpoint whose config and tensor headers agree. */
export interface VerifiedCheckpoint {
  config: Qwen3Config;
  set: SafetensorsSet;
  /** What was tolerated: extra tensors ignored, a tied lm_head dropped. */
  notes: string[];
}

/** Reads `config.json` and the safetensors headers, and checks every tensor the config implies. */
export async function verifyCheckpoint(dir: string): Promise<VerifiedCheckpoint> {
  const config = await readConfig(dir);
  const set = await openSafetensorsDir(dir);
  const expected = expectedTensors(config);
  const want = new Set(expected.map((t) => t.name));
  const cfgFile = joinPath(dir, "config.json");
  for (const spec of expected) {
    const h = set.where.get(spec.name);
    if (!h) {
      throw new InputError(
        `missing tensor "${spec.name}" (${cfgFile} implies shape [${spec.shape.join(", ")}])`,
        set.index ?? joinPath(dir, "model.safetensors"),
      );
    }
    const got = h.tensors.get(spec.name)!.shape;
    if (got.length !== spec.shape.length || got.some((s, i) => s !== spec.shape[i])) {
      throw new InputError(
        `${describeMismatch(config, spec.name, spec.shape, got)}`,
        h.path,
        undefined,
        spec.name,
      );
    }
  }
  const notes: string[] = [];
  const extra = [...set.where.keys()].filter((n) => !want.has(n)).sort();
  if (extra.length) {
    const tiedHead = config.tie_word_embeddings && extra.includes("lm_head.weight");
    notes.push(
      `ignored ${extra.length} extra tensor(s): ${extra.slice(0, 5).join(", ")}` +
        (extra.length > 5 ? ", ..." : "") +
        (tiedHead ? " (lm_head.weight: tie_word_embeddings is true, the embedding is used)" : ""),
    );
  }
  return { config, set, notes };
}

/** "config.json says hidden_size 128 but model.embed_tokens.weight is [1000, 64]". */
function describeMismatch(cfg: Qwen3Config, name: string, want: number[], got: number[]): string {
  const keys: string[] = [];
  const add = (k: string) => keys.push(`${k} ${cfg[k]}`);
  if (name.endsWith("embed_tokens.weight") || name === "lm_head.weight") {
    add("vocab_size");
    add("hidden_size");
  } else if (/q_norm|k_norm/.test(name)) add("head_dim");
  else if (/layernorm|model\.norm/.test(name)) add("hidden_size");
  else if (/q_proj|o_proj/.test(name)) {
    add("num_attention_heads");
    add("head_dim");
    add("hidden_size");
  } else if (/k_proj|v_proj/.test(name)) {
    add("num_key_value_heads");
    add("head_dim");
    add("hidden_size");
  } else {
    add("intermediate_size");
    add("hidden_size");
  }
  return `config.json says ${keys.join(", ")} (so [${want.join(", ")}]) but ${name} is ` +
    `[${got.join(", ")}]`;
}

/**
 * Refuses a folder that already holds checkpoint files: writing a new checkpoint there would
 * replace it (and a leftover shard index would make the save delete the files it lists).
 */
export async function refuseExistingCheckpoint(dir: string, what = "--out"): Promise<void> {
  const found: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (
        e.name === "config.json" || e.name.endsWith(".safetensors") ||
        e.name === "model.safetensors.index.json"
      ) found.push(e.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw new InputError(`cannot read the folder: ${(e as Error).message}`, dir);
  }
  if (found.length) {
    throw new InputError(
      `already holds a checkpoint (${found.sort().join(", ")}); choose another ${what} or ` +
        "remove it first",
      dir,
    );
  }
}
