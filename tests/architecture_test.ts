/**
 * The layers of docs/architecture.md hold: every relative import of every source file runs to
 * its own folder or to a folder of a lower layer, and the doc's layer table names exactly the
 * source folders of the tree. The table is read from the doc, so doc and test cannot drift.
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { ROOT } from "./helpers.ts";

/** One import: the importing file and the file it names, both relative to the repository root. */
export interface ImportEdge {
  from: string;
  to: string;
}

/** Layer rank of each top-level folder (`core`) or root file (`main.ts`), from the doc's table. */
export function parseLayers(markdown: string): Map<string, number> {
  const start = markdown.indexOf("<!-- layers -->");
  const end = markdown.indexOf("<!-- /layers -->");
  if (start < 0 || end < start) throw new Error("docs/architecture.md: no <!-- layers --> table");
  const ranks = new Map<string, number>();
  for (const row of markdown.slice(start, end).split("\n")) {
    const cells = row.split("|").map((c) => c.trim());
    const rank = Number(cells[1]);
    if (cells.length < 4 || cells[1] === "" || !Number.isInteger(rank)) continue;
    for (const m of cells[3].matchAll(/`([^`]+)`/g)) {
      const name = m[1].replace(/\/$/, "");
      if (ranks.has(name)) throw new Error(`docs/architecture.md: ${name} is in two layers`);
      ranks.set(name, rank);
    }
  }
  return ranks;
}

/**
 * The relative specifiers a TypeScript source names: static imports and re-exports (declarations
 * start a line in formatted code, so a doc comment that shows one is not counted), side-effect
 * imports and dynamic `import("...")`.
 */
export function specifiersOf(source: string): string[] {
  const out: string[] = [];
  const patterns = [
    /^[ \t]*(?:import|export)\b[^;"']*?\bfrom\s*["']([^"']+)["']/gm,
    /^[ \t]*import\s*["']([^"']+)["']/gm,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) out.push(m[1]);
  return out.filter((s) => s.startsWith("./") || s.startsWith("../"));
}

/** `spec` as named from `file`, as a path relative to the root ("../core/x.ts" from "cli/a.ts"). */
export function resolveFrom(file: string, spec: string): string {
  const parts = file.split("/").slice(0, -1);
  for (const p of spec.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") {
      if (parts.length === 0) return `../${spec}`; // outside the repository
      parts.pop();
    } else parts.push(p);
  }
  return parts.join("/");
}

/** The folder (or root file) whose layer a path is in: "core" for "core/gpu/device.ts". */
export function unitOf(path: string): string {
  return path.split("/")[0];
}

/** Every import against the layer order, as "from -> to (layer a imports layer b)". */
export function layerViolations(
  edges: readonly ImportEdge[],
  ranks: ReadonlyMap<string, number>,
): string[] {
  const bad: string[] = [];
  for (const { from, to } of edges) {
    const a = unitOf(from);
    const b = unitOf(to);
    if (a === b) continue;
    const ra = ranks.get(a);
    const rb = ranks.get(b);
    if (ra === undefined) bad.push(`${from}: its folder ${a} is in no layer`);
    else if (rb === undefined) bad.push(`${from} -> ${to}: ${b} is in no layer`);
    else if (rb >= ra) bad.push(`${from} -> ${to} (layer ${ra} imports layer ${rb})`);
  }
  return bad;
}

/** Source files (.ts) under `dir`, relative to the root; tests/ and tool-managed folders excluded. */
function sourceFiles(dir = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(`${ROOT}/${dir}`)) {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.name.startsWith(".") || (dir === "" && ["tests", "dist", "runs"].includes(e.name))) {
      continue;
    }
    if (e.name === "node_modules" || e.name === "fixtures") continue;
    if (e.isDirectory) out.push(...sourceFiles(rel));
    else if (e.isFile && e.name.endsWith(".ts")) out.push(rel);
  }
  return out.sort();
}

function treeEdges(files: readonly string[]): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const f of files) {
    for (const spec of specifiersOf(Deno.readTextFileSync(`${ROOT}/${f}`))) {
      edges.push({ from: f, to: resolveFrom(f, spec) });
    }
  }
  return edges;
}

const LAYERS = parseLayers(Deno.readTextFileSync(`${ROOT}/docs/architecture.md`));

Deno.test("architecture: every import of the tree runs down the layers", () => {
  const files = sourceFiles();
  assert(files.length > 200, `only ${files.length} source files found`);
  const edges = treeEdges(files);
  assert(edges.length > 500, `only ${edges.length} imports found`);
  assertEquals(layerViolations(edges, LAYERS), []);
});

Deno.test("architecture: the layer table names exactly the tree's source folders", () => {
  const units = new Set(sourceFiles().map(unitOf));
  // deno.json is imported (core/version.ts reads the version) but is not a source file.
  const listed = [...LAYERS.keys()].filter((u) => u !== "deno.json").sort();
  assertEquals(listed, [...units].sort());
  for (const u of LAYERS.keys()) {
    assert(Deno.statSync(`${ROOT}/${u}`), `${u} is in the table but not in the tree`);
  }
});

Deno.test("architecture: a planted back-import fails", () => {
  const ranks = parseLayers(
    "<!-- layers -->\n| rank | layer | folders |\n| --- | --- | --- |\n" +
      "| 0 | foundation | `core/` |\n| 1 | kernels | `kernels/` |\n| 2 | engine | `engine/` |\n" +
      "| 3 | pipelines | `data/`, `eval/` |\n<!-- /layers -->",
  );
  assertEquals(ranks.get("eval"), 3);
  const down: ImportEdge[] = [
    { from: "kernels/a.ts", to: "core/gpu/device.ts" },
    { from: "engine/b.ts", to: "kernels/a.ts" },
    { from: "core/gpu/x.ts", to: "core/tensor.ts" },
  ];
  assertEquals(layerViolations(down, ranks), []);
  // Up, sideways (same layer, other folder) and from an unlisted folder: each is reported.
  assertEquals(
    layerViolations([
      ...down,
      { from: "core/tensor.ts", to: "kernels/a.ts" },
      { from: "data/c.ts", to: "eval/d.ts" },
      { from: "lib/e.ts", to: "core/tensor.ts" },
    ], ranks),
    [
      "core/tensor.ts -> kernels/a.ts (layer 0 imports layer 1)",
      "data/c.ts -> eval/d.ts (layer 3 imports layer 3)",
      "lib/e.ts: its folder lib is in no layer",
    ],
  );
  // The same through the parser: a back-import planted in a core source is found.
  const planted =
    'import { x } from "./errors.ts";\nimport {\n  y,\n} from "../engine/qwen3.ts";\n' +
    ' * import { z } from "../cli/app.ts"; (in a doc comment: not an import)\n' +
    'const m = await import("../kernels/rope.ts");\nexport * from "../tasks/types.ts";\n';
  const edges = specifiersOf(planted).map((s) => ({
    from: "core/fsutil.ts",
    to: resolveFrom("core/fsutil.ts", s),
  }));
  assertEquals(edges.map((e) => e.to), [
    "core/errors.ts",
    "engine/qwen3.ts",
    "tasks/types.ts",
    "kernels/rope.ts",
  ]);
  assertEquals(layerViolations(edges, LAYERS).length, 3);
  assertThrows(() => parseLayers("no table"), /no <!-- layers --> table/);
});
