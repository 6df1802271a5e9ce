/** info, doctor and bench runtime end to end, as processes on the real adapter. */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { cliProcess, ROOT } from "./helpers.ts";

Deno.test("info --json reports the adapter, backend and versions", async () => {
  const r = await cliProcess(["info", "--json"]);
  assertEquals(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assertEquals(j.versions.deno, Deno.version.deno);
  assertEquals(j.packages.yaml, "2.8.1");
  assert(j.adapter, "an adapter");
  assert(Array.isArray(j.adapter.features));
  assert(j.adapter.limits.maxStorageBufferBindingSize >= 128 * 2 ** 20);
  assert(["vulkan", "gl", "metal", "dx12"].includes(j.backend), `backend ${j.backend}`);
  if (/llvmpipe/.test(j.adapter.description)) {
    // This machine: Mesa's software Vulkan (lavapipe) with f16, preferred over GL.
    assertEquals(j.backend, "vulkan");
    assertEquals(j.adapter.kind, "software");
    assert(j.adapter.features.includes("shader-f16"));
    assert(j.backends.gl !== undefined);
  }
});

Deno.test("info --backend pins the backend and GL is reachable as the fallback", async () => {
  const r = await cliProcess(["info", "--json", "--backend", "gl"]);
  const j = JSON.parse(r.out);
  assertEquals(j.backend, "gl");
  if (r.code === 0) {
    assert(j.adapter.limits.maxStorageBuffersPerShaderStage >= 1);
  } else {
    assertMatch(j.error, /No WebGPU adapter was found with the gl backend.*apt-get install/);
  }
});

Deno.test("doctor runs real kernels against the CPU and reports each check", async () => {
  const dir = await Deno.makeTempDir();
  const r = await cliProcess(["doctor", "--json", "--out", dir, "--seed", "3"]);
  assertEquals(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assertEquals(j.ok, true);
  const names = j.checks.map((c: { name: string }) => c.name);
  assert(names.some((n: string) => n.startsWith("matmul")));
  assert(names.some((n: string) => n.includes("chained dispatches")));
  for (const c of j.checks) {
    assert(c.ok && c.error <= c.tolerance, `${c.name}: ${c.error}`);
  }
  if (j.adapter.features.includes("shader-f16")) assert(names.includes("f16 round trip"));
  assertEquals(JSON.parse(await Deno.readTextFile(`${dir}/doctor.json`)).ok, true);
});

Deno.test("no adapter: a clear error that says what to install, exit 1", async () => {
  // Pin Vulkan and hide every Vulkan driver: no adapter can be found.
  const r = await cliProcess(["info", "--backend", "vulkan"], {
    env: { VK_ICD_FILENAMES: "/nonexistent/icd.json", VK_DRIVER_FILES: "/nonexistent/icd.json" },
  });
  assertEquals(r.code, 1);
  assertMatch(r.out, /adapter:\s+none/);
  assertMatch(r.out, /apt-get install mesa-vulkan-drivers libvulkan1/);
});

Deno.test("bench runtime writes results and the effective config", async () => {
  const dir = await Deno.makeTempDir();
  const cfg = `${dir}/bench.yaml`;
  await Deno.writeTextFile(cfg, "bench:\n  dispatches: 6\n  readbacks: 3\n");
  const r = await cliProcess([
    "bench",
    "runtime",
    "--quiet",
    "--json",
    "--config",
    cfg,
    "--set",
    "bench.repeats=1",
    "--set",
    "bench.elements=1000",
    "--out",
    `${dir}/out`,
  ]);
  assertEquals(r.code, 0, r.err);
  const res = JSON.parse(await Deno.readTextFile(`${dir}/out/results.json`));
  assertEquals(JSON.parse(r.out), res);
  assertEquals(res.dispatches, 6);
  assertEquals(res.readbacks, 3);
  assert(res.batchSpeedup > 0 && Number.isFinite(res.batchSpeedup));
  assertEquals(JSON.parse(await Deno.readTextFile(`${dir}/out/config.json`)), {
    bench: { dispatches: 6, elements: 1000, readbacks: 3, repeats: 1 },
  });
  const bad = await cliProcess(["bench", "runtime", "--config", `${dir}/nope.yaml`]);
  assertEquals(bad.code, 1);
  assertMatch(bad.err, /cannot read config file .*nope\.yaml/);
});

Deno.test("the bundle runs --help and info offline from an empty directory", async () => {
  const dir = await Deno.makeTempDir();
  const bundle = `${dir}/golongrl.js`;
  const b = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--frozen", "main.ts", "-o", bundle],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(b.code, 0, new TextDecoder().decode(b.stderr));
  const empty = await Deno.makeTempDir();
  // An empty DENO_DIR with --cached-only: any download would fail.
  const run = async (...args: string[]) => {
    const o = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", "--cached-only", "--no-config", bundle, ...args],
      cwd: empty,
      env: { DENO_DIR: `${empty}/.deno` },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
  };
  const help = await run("--help");
  assertEquals(help.code, 0, help.err);
  assertMatch(help.out, /Usage: golongrl/);
  const info = await run("info", "--json");
  assertEquals(info.code, 0, info.err);
  const j = JSON.parse(info.out);
  assert(j.adapter);
  assert(j.backend !== "unknown", "backend detected by re-running the bundle");
  // reward serve from the bundle: the bundle is its own scoring workers' module.
  const serve = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      "--cached-only",
      "--no-config",
      bundle,
      "reward",
      "serve",
      "--port",
      "0",
      "--workers",
      "2",
    ],
    cwd: empty,
    env: { DENO_DIR: `${empty}/.deno` },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = serve.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  try {
    while (!/listening on (\S+)/.test(seen)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`bundle server exited: ${seen}`);
      seen += value;
    }
    assertMatch(seen, /\(2 scoring workers\)/);
    // Enough work to go to a worker (above the inline threshold), small enough to be quick.
    const text = Array.from({ length: 1200 }, (_, i) => `w${i % 40}`).join(" ");
    const r = await fetch(/listening on (\S+)/.exec(seen)![1], {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        data_source: "summary",
        solution_str: "</think>" + text,
        ground_truth: { doc_ids: [text], summary: "English" },
      }),
    });
    const score = await r.json();
    assert(score.score > 0.9 && score.error === undefined, JSON.stringify(score));
  } finally {
    serve.kill("SIGTERM");
    await reader.cancel();
    await serve.status;
  }
  assertEquals([...Deno.readDirSync(empty)].filter((e) => e.name !== ".deno").length, 0);
});
