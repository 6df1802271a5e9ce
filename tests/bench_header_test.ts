/** The bench report header (host facts) and the kernels report's attention/matmul ratios. */
import { assert, assertEquals } from "./assert.ts";
import { benchHost, formatBenchHeader, parseCpuinfo } from "../bench/header.ts";
import { formatKernelsReport, kernelsReport, type MatmulBenchRow } from "../bench/kernels.ts";
import { attentionBackwardFlops, attentionForwardFlops } from "../bench/attention.ts";

const CPUINFO = `processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz
flags\t\t: fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2

processor\t: 1
model name\t: Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz
flags\t\t: fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2 avx512f
`;

Deno.test("cpuinfo: model, CPU count and the vector flags of the first CPU, in a fixed order", () => {
  const c = parseCpuinfo(CPUINFO);
  assertEquals(c.cpu, "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz");
  assertEquals(c.cpus, 2);
  assertEquals(c.flags, ["sse4_2", "avx", "f16c", "fma", "avx2"]);
  assertEquals(parseCpuinfo("garbage\nno colon").cpu, "unknown");
});

Deno.test("the bench header names CPU, vector extensions, llvmpipe settings and adapter", () => {
  const h = {
    ...benchHost("llvmpipe (LLVM 15.0.6, 256 bits)"),
    cpu: "X",
    cpus: 2,
    vectorExtensions: ["avx2", "avx512f"],
    lpNumThreads: "2",
    lpNativeVectorWidth: null,
    cpuCapsOverride: null,
  };
  const text = formatBenchHeader(h);
  assert(/cpu: X \(2 logical CPUs; vector: avx2 avx512f\)/.test(text), text);
  assert(/LP_NUM_THREADS=2 LP_NATIVE_VECTOR_WIDTH=unset/.test(text), text);
  assert(/adapter: llvmpipe \(LLVM 15\.0\.6, 256 bits\)/.test(text), text);
  assert(/adapter: none/.test(formatBenchHeader({ ...h, adapter: null })), "no GPU");
  assert(!/GALLIUM_OVERRIDE_CPU_CAPS/.test(text), "named only when set");
  // Mesa told to compile as for an AVX2-only CPU: the CPU's own flags no longer tell the story.
  assert(
    /LP_NATIVE_VECTOR_WIDTH=unset GALLIUM_OVERRIDE_CPU_CAPS=avx\n/.test(
      formatBenchHeader({ ...h, cpuCapsOverride: "avx" }),
    ),
  );
});

Deno.test("kernels report: attention GFLOP/s over the best NT matmul of the same run", () => {
  const row = (size: number, layout: "NN" | "NT" | "TN", g: number): MatmulBenchRow => ({
    size,
    layout,
    tunedGflops: g,
    naiveGflops: 1,
    cpuBlasGflops: null,
    variant: "v",
  });
  const mm = [row(512, "NT", 8), row(1024, "NN", 6), row(1024, "NT", 10), row(1024, "TN", 9)];
  const T = 1024, fwdMs = 100, bwdMs = 500;
  const fwdGflops = attentionForwardFlops(T, 8, 64) / (fwdMs * 1e6);
  const bwdGflops = attentionBackwardFlops(T, 8, 64) / (bwdMs * 1e6);
  assert(Math.abs(fwdGflops - 2 * T * T * 64 * 8 / 1e8) < 1e-9, "fwd counts 2·T²·d·hq");
  const r = kernelsReport(
    benchHost("adapter"),
    mm,
    [{ T, fwdMs, bwdMs, peakBytes: 1 << 20, fwdGflops, bwdGflops }],
    { hq: 8, hkv: 2, headDim: 64 },
  );
  assertEquals(r.ntGflops, 10);
  assert(Math.abs(r.attention[0].fwdVsNt - fwdGflops / 10) < 1e-12, "fwd ratio");
  assert(Math.abs(r.attention[0].bwdVsNt - bwdGflops / 10) < 1e-12, "bwd ratio");
  const text = formatKernelsReport(r);
  assert(text.startsWith("cpu: "), "header first");
  assert(/fwd vs NT/.test(text) && /bwd GFLOP\/s/.test(text), text);
  // NN at 1024 is reported against NT at the same size: 6 / 10.
  assert(/1024 +NN +6\.0 +0\.60/.test(text), text);
});
