/** `golongrl bench` with no suite: orchestration, the report's rows, the machine header. */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import {
  etaSeconds,
  type ReportHeader,
  runBenchReport,
  runSuites,
  type Suite,
} from "../bench/all.ts";
import {
  type BenchReport,
  type BenchRow,
  compare,
  contextRow,
  finalizeReport,
  renderBenchMd,
} from "../bench/report.ts";
import { adapterPeak, lscpuCpus, lscpuModelName, type MachineInfo } from "../bench/machine.ts";
import { generationFlops } from "../bench/suites.ts";
import { makeConfig } from "../engine/model_config.ts";
import { cli } from "./helpers.ts";

const machine = (over: Partial<MachineInfo> = {}): MachineInfo => ({
  cpuModel: "AMD EPYC",
  vectorExtensions: ["avx2", "avx512f"],
  cores: 2,
  usableCores: 2,
  lpNumThreads: null,
  cpuCapsOverride: null,
  adapter: "llvmpipe (LLVM 15.0.6, 256 bits)",
  adapterKind: "software",
  peakGflops: null,
  peakWhy: "software adapter",
  ...over,
});

const header = (over: Partial<MachineInfo> = {}): ReportHeader => ({
  version: "0.0.0-test",
  profile: "quick",
  machine: machine(over),
  python: { numpy: null, torch: null, why: "/usr/bin/python3 cannot import numpy or torch" },
  load: "test",
});

/** The data rows of every suite table in bench.md, as cells. */
function mdRows(md: string): string[][] {
  const rows: string[][] = [];
  let inSuite = false;
  for (const line of md.split("\n")) {
    if (line.startsWith("## ")) inSuite = true;
    if (!inSuite || !line.startsWith("| ") || line.startsWith("| figure")) continue;
    rows.push(line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim()));
  }
  return rows;
}

Deno.test("compare: rates are figure/reference, times reference/figure, a missing reference says why", () => {
  const rate = compare({
    suite: "s",
    figure: "f",
    value: 30,
    unit: "GFLOP/s",
    reference: "blas",
    referenceValue: 10,
    better: "higher",
  });
  assertEquals(rate.ratio, 3);
  assertEquals(rate.noRatio, null);
  const time = compare({
    suite: "s",
    figure: "f",
    value: 20,
    unit: "ms",
    reference: "one submit each",
    referenceValue: 50,
    better: "lower",
  });
  assertEquals(time.ratio, 2.5);
  const missing = compare({
    suite: "s",
    figure: "f",
    value: 30,
    unit: "tok/s",
    reference: "PyTorch",
    referenceValue: null,
    better: "higher",
    why: "no reference: torch absent",
  });
  assertEquals(missing.ratio, null);
  assertEquals(missing.noRatio, "no reference: torch absent");
  const zero = compare({
    suite: "s",
    figure: "overhead",
    value: 0,
    unit: "%",
    reference: "target",
    referenceValue: 10,
    better: "lower",
  });
  assertEquals(zero.ratio, null);
  assertMatch(zero.noRatio!, /0/);
  // A NaN figure (e.g. a skipped backward) has no ratio, and says so.
  const nan = compare({
    suite: "s",
    figure: "f",
    value: NaN,
    unit: "ms",
    reference: "r",
    referenceValue: 1,
    better: "lower",
  });
  assertEquals(nan.ratio, null);
  assert(nan.noRatio);
});

Deno.test("bench.md and bench.json: every row has a ratio or the reason it has none", () => {
  const rows: BenchRow[] = [
    compare({
      suite: "kernels",
      figure: "matmul 512 NN",
      value: 4.2,
      unit: "GFLOP/s",
      reference: "CPU BLAS",
      referenceValue: 20,
      better: "higher",
      gflops: 4.2,
    }),
    compare({
      suite: "kernels",
      figure: "matmul 512 NT",
      value: 4,
      unit: "GFLOP/s",
      reference: "CPU BLAS",
      referenceValue: null,
      better: "higher",
      why: "no reference: numpy absent",
    }),
    contextRow({ suite: "kernels", figure: "peak memory", value: 3, unit: "MB", why: "context" }),
    // A row built by hand with a broken ratio and no reason: the writer must not pass it on.
    {
      ...contextRow({ suite: "kernels", figure: "bad", value: 1, unit: "", why: "x" }),
      ratio: Infinity,
      noRatio: null,
    },
  ];
  const report: BenchReport = {
    ...header(),
    started: "2026-01-01T00:00:00.000Z",
    wallSeconds: 12,
    suites: [
      { name: "kernels", status: "ok", seconds: 5, error: null, rows, raw: null },
      { name: "model", status: "failed", seconds: 1, error: "no adapter", rows: [], raw: null },
      { name: "eval", status: "ok", seconds: 1, error: null, rows: [], raw: null },
    ],
  };
  const fin = finalizeReport(report);
  for (const s of fin.suites) {
    assert(s.rows.length > 0, `${s.name} has rows`);
    for (const r of s.rows) {
      const hasRatio = r.ratio !== null && Number.isFinite(r.ratio);
      assert(hasRatio !== Boolean(r.noRatio), `${s.name}/${r.figure}: ratio xor reason`);
    }
  }
  assertMatch(fin.suites[1].rows[0].noRatio!, /suite failed: no adapter/);
  assertMatch(fin.suites[2].rows[0].noRatio!, /no figures/);

  const md = renderBenchMd(report);
  const cells = mdRows(md);
  assertEquals(cells.length, 4 + 1 + 1);
  for (const c of cells) {
    // figure | value | reference | reference value | ratio | target
    assert(/^[0-9.]+$/.test(c[4]) || /^none: \S/.test(c[4]), `ratio cell "${c[4]}"`);
  }
  assertEquals(cells[0][4], "0.210");
  assertMatch(md, /none: no reference: numpy absent/);
  assertMatch(md, /none: suite failed: no adapter/);
  // The header: CPU line, extensions, cores, LP_NUM_THREADS, adapter, Python references.
  assertMatch(md, /CPU: AMD EPYC; vector extensions: avx2, avx512f; 2 CPUs\n/);
  assertMatch(md, /LP_NUM_THREADS: unset\n/); // no GALLIUM_OVERRIDE_CPU_CAPS named when unset
  assertMatch(md, /adapter: llvmpipe .*software/);
  assertMatch(md, /torch absent/);
  // No peak column on a software adapter.
  assert(!md.includes("% of peak"));
});

Deno.test("peak fraction: only on a hardware adapter with a known peak", () => {
  assertEquals(adapterPeak("llvmpipe (LLVM 15.0.6, 256 bits)", "software").gflops, null);
  assertMatch(adapterPeak("llvmpipe", "software").why!, /software/);
  assertEquals(adapterPeak("NVIDIA H200", "hardware").gflops, 67_000);
  assertEquals(adapterPeak("NVIDIA H200 NVL", "hardware").gflops, 60_000);
  assertEquals(adapterPeak("NVIDIA A100-SXM4-80GB", "hardware").gflops, 19_500);
  // Unknown products are left empty, never estimated; near-miss names do not match.
  for (const name of ["NVIDIA GH200 480GB", "AMD Radeon RX 7900 XTX", "NVIDIA L40"]) {
    const p = adapterPeak(name, "hardware");
    assertEquals(p.gflops, null, name);
    assertMatch(p.why!, /not in the table/);
  }
  const row = compare({
    suite: "kernels",
    figure: "matmul",
    value: 6700,
    unit: "GFLOP/s",
    reference: "blas",
    referenceValue: 100,
    better: "higher",
    gflops: 6700,
  });
  const noFlops = contextRow({ suite: "kernels", figure: "mem", value: 1, unit: "MB", why: "c" });
  const base = {
    started: "x",
    wallSeconds: 1,
    suites: [{
      name: "kernels",
      status: "ok" as const,
      seconds: 1,
      error: null,
      rows: [row, noFlops],
      raw: null,
    }],
  };
  const hw = finalizeReport({
    ...header({
      adapter: "NVIDIA H200",
      adapterKind: "hardware",
      peakGflops: 67_000,
      peakWhy: null,
    }),
    ...base,
  });
  assertEquals(hw.suites[0].rows[0].peakFraction, 0.1);
  assertEquals(hw.suites[0].rows[1].peakFraction, null);
  const md = renderBenchMd({
    ...header({
      adapter: "NVIDIA H200",
      adapterKind: "hardware",
      peakGflops: 67_000,
      peakWhy: null,
    }),
    ...base,
  });
  assertMatch(md, /% of peak/);
  assertMatch(md, /\| 10\.0% \|/);
  assertEquals(finalizeReport({ ...header(), ...base }).suites[0].rows[0].peakFraction, null);
});

Deno.test("a failing suite is reported and the next suites still run", async () => {
  const ran: string[] = [];
  const fake = (name: string, fail = false): Suite<{ tag: string }> => ({
    name,
    estimateSeconds: 10,
    run: (ctx) => {
      ran.push(`${name}:${ctx.tag}`);
      if (fail) return Promise.reject(new Error(`${name} exploded`));
      return Promise.resolve({
        rows: [compare({
          suite: name,
          figure: "rate",
          value: 2,
          unit: "x/s",
          reference: "ref",
          referenceValue: 1,
          better: "higher",
        })],
        raw: { name },
      });
    },
  });
  const log: string[] = [];
  let t = 0;
  const out = await runSuites([fake("a"), fake("b", true), fake("c")], { tag: "ctx" }, {
    log: (l) => log.push(l),
    now: () => (t += 1000),
  });
  assertEquals(ran, ["a:ctx", "b:ctx", "c:ctx"]);
  assertEquals(out.map((o) => o.status), ["ok", "failed", "ok"]);
  assertEquals(out[1].error, "b exploded");
  assertEquals(out[2].rows[0].ratio, 2);
  assert(log.some((l) => /bench 2\/3 b: running .*ETA/.test(l)), log.join("\n"));
  assert(log.some((l) => /b: failed: b exploded/.test(l)));

  const dir = await Deno.makeTempDir();
  try {
    const { report, files } = await runBenchReport(
      [fake("a"), fake("b", true)],
      { tag: "x" },
      header(),
      `${dir}/nested/out`,
      { after: () => Promise.resolve({ load: "measured after the suites" }) },
    );
    assertEquals(files.map((f) => f.split("/").pop()), ["bench.md", "bench.json"]);
    // Written atomically: only the two files, no temporary names left behind.
    const names = [...Deno.readDirSync(`${dir}/nested/out`)].map((e) => e.name).sort();
    assertEquals(names, ["bench.json", "bench.md"]);
    const json = JSON.parse(await Deno.readTextFile(`${dir}/nested/out/bench.json`));
    assertEquals(json.suites.map((s: { status: string }) => s.status), ["ok", "failed"]);
    assertMatch(json.suites[1].rows[0].noRatio, /suite failed: b exploded/);
    assertEquals(json.machine.cpuModel, "AMD EPYC");
    assertEquals(json.load, "measured after the suites");
    assertEquals(report.suites[0].raw, { name: "a" });
    const md = await Deno.readTextFile(`${dir}/nested/out/bench.md`);
    assertMatch(md, /\| b \| failed \|.*b exploded/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ETA scales the remaining estimates by the speed seen so far", () => {
  assertEquals(etaSeconds([], 30), 30);
  assertEquals(etaSeconds([{ estimate: 10, actual: 20 }], 30), 60);
  assertEquals(etaSeconds([{ estimate: 10, actual: 5 }, { estimate: 10, actual: 5 }], 40), 20);
});

Deno.test("machine header: lscpu model line and vector extensions", () => {
  const lscpu =
    "Architecture:  x86_64\nCPU(s):  2\nModel name:    AMD EPYC 9B14\nThread(s) per core: 2\n";
  assertEquals(lscpuModelName(lscpu), "AMD EPYC 9B14");
  assertEquals(lscpuModelName("Architecture: x86_64\n"), null);
  // "CPU(s):" is the count, not "On-line CPU(s) list:" or "NUMA node0 CPU(s):".
  assertEquals(lscpuCpus("On-line CPU(s) list: 0,1\nCPU(s):   2\nNUMA node0 CPU(s): 0,1\n"), 2);
  assertEquals(lscpuCpus("Model name: x\n"), null);
  // /proc/cpuinfo parsing is bench/header.ts's parseCpuinfo (tests/bench_header_test.ts).
});

Deno.test("generation ceiling FLOPs: prefill logits of the last token only, one decode per later token", () => {
  const c = makeConfig("tiny", 1000);
  const one = generationFlops(c, 16, 1);
  assertEquals(one.decode, 0); // the first new token comes from the prefill
  const two = generationFlops(c, 16, 2);
  const three = generationFlops(c, 16, 3);
  assertEquals(one.prefill, two.prefill);
  // Each later token costs at least its head and layers, and more as the context grows.
  const head = 2 * c.vocab_size * c.hidden_size;
  assert(two.decode > head);
  assert(three.decode - two.decode > two.decode);
  // The prefill computes every layer for every prompt token but the head only once.
  const noPromptHead = generationFlops(c, 1, 1).prefill;
  assert(one.prefill < 16 * noPromptHead);
  assert(one.prefill > 15 * (noPromptHead - head));
});

Deno.test("golongrl bench: flags are checked before anything runs", async () => {
  const bad = await cli("bench", "--suites", "kernels,nope");
  assertEquals(bad.code, 2);
  assertMatch(bad.err, /--suites: unknown suite "nope"/);
  const empty = await cli("bench", "--suites", ",");
  assertEquals(empty.code, 2);
  assertMatch(empty.err, /no suite named/);
  const prof = await cli("bench", "--profile", "huge");
  assertEquals(prof.code, 2);
  assertMatch(prof.err, /quick, full/);
});

Deno.test("golongrl bench --suites eval writes bench.md and bench.json with the header and ratios", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await cli("bench", "--suites", "eval", "--out", dir, "--quiet");
    assertEquals(r.code, 0, r.err);
    const md = await Deno.readTextFile(`${dir}/bench.md`);
    assertEquals(r.out, md);
    assertMatch(md, /^- CPU: .+; vector extensions: .+; \d+ CPUs/m);
    assertMatch(md, /^- LP_NUM_THREADS: /m);
    assertMatch(md, /^- adapter: /m);
    const json = JSON.parse(await Deno.readTextFile(`${dir}/bench.json`));
    assertEquals(json.suites.map((s: { name: string }) => s.name), ["eval"]);
    const rows = json.suites[0].rows as BenchRow[];
    assertEquals(rows.map((x) => x.figure.match(/concurrency (\d+)/)![1]), ["1", "16", "64"]);
    for (const x of rows) {
      assert(x.ratio !== null && x.ratio > 0 && x.ratio < 1.5, `${x.figure}: ${x.ratio}`);
      assertEquals(x.referenceValue, Number(x.figure.match(/concurrency (\d+)/)![1]) * 20);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
