/** The golongrl version and the versions of what it runs on, from deno.json (bundled at build time). */
import denoJson from "../deno.json" with { type: "json" };

export const VERSION: string = denoJson.version;

/** npm packages pinned in deno.json's import map, e.g. { yaml: "2.8.1" }. */
export function packageVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of Object.values(denoJson.imports as Record<string, string>)) {
    const m = /^npm:(@?[^@]+)@(.+)$/.exec(spec);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** Runtime versions: Deno, V8, TypeScript, OS and arch. */
export function runtimeVersions(): Record<string, string> {
  return {
    golongrl: VERSION,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    os: Deno.build.os,
    arch: Deno.build.arch,
  };
}
