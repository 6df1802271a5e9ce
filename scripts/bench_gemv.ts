/**
 * Decode-shaped matmul throughput: GB/s of weights read by y[m, n] = x[m, k]·W[n, k]ᵀ for each
 * candidate configuration, at the shapes a Qwen3-0.6B layer decodes with. A measurement script,
 * not a test: `deno run -A scripts/bench_gemv.ts [--m 1] [--f16] [--configs a,b]`.
 */
import { parseArgs } from "node:util";
import { acquireGpu } from "../core/gpu/device.ts";
import { BufferPool } from "../core/gpu/pool.ts";
import { Recorder } from "../core/gpu/recorder.ts";
import { matmulCandidates, matmulWith } from "../kernels/matmul.ts";

const { values } = parseArgs({
  options: {
    m: { type: "string", default: "1" },
    f16: { type: "boolean", default: false },
    configs: { type: "string" },
    reps: { type: "string", default: "3" },
    inner: { type: "string", default: "20" },
    shapes: { type: "string", default: "3072x1024,1024x3072,8192x1024" },
  },
});
const gpu = await acquireGpu();
const m = Number(values.m), reps = Number(values.reps), inner = Number(values.inner);
const f16 = values.f16;
const configs = values.configs ? values.configs.split(",") : [...matmulCandidates(gpu)];
const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
const pool = new BufferPool(gpu);
console.log(
  `m=${m} B ${
    f16 ? "f16" : "f32"
  }; ms per product (best of ${reps} submissions of ${inner}) and GB/s of weights read`,
);
for (const shape of values.shapes.split(",")) {
  const [n, k] = shape.split("x").map(Number);
  const wBytes = n * k * (f16 ? 2 : 4);
  const a = gpu.device.createBuffer({ size: Math.ceil(m * k * 4 / 16) * 16, usage });
  const b = gpu.device.createBuffer({ size: Math.ceil(wBytes / 16) * 16, usage });
  const c = gpu.device.createBuffer({ size: Math.ceil(m * n * 4 / 16) * 16, usage });
  const args = { a, b, c, m, n, k, transB: true, bDtype: f16 ? "f16" as const : "f32" as const };
  for (const cfg of configs) {
    let best = Infinity;
    for (let r = 0; r <= reps; r++) {
      const rec = new Recorder(gpu, pool);
      // Many dispatches per submission: one submit-and-wait alone costs about 10 ms in Deno.
      for (let i = 0; i < (r === 0 ? 1 : inner); i++) await matmulWith(gpu, rec, args, cfg);
      const t0 = performance.now();
      await rec.submit();
      await gpu.device.queue.onSubmittedWorkDone();
      if (r > 0) best = Math.min(best, (performance.now() - t0) / inner); // r = 0 compiles
    }
    const gbs = wBytes / (best / 1e3) / 1e9;
    console.log(
      `n=${n} k=${k}  ${cfg.padEnd(32)} ${best.toFixed(2).padStart(8)} ms ${
        gbs.toFixed(2).padStart(7)
      } GB/s`,
    );
  }
  a.destroy();
  b.destroy();
  c.destroy();
}
