// Imports point one way: servers depend on the contract (@voting/api) and server-kit, never on
// the client package, so a CLI change cannot change what a server sends.
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const SERVER_PACKAGES = ["server-kit", "auth-server", "vote-server", "tally-server"];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((f) => f.isFile() && f.name.endsWith(".ts"))
    .map((f) => join(f.parentPath, f.name));
}

const importsOf = (file: string) => [...readFileSync(file, "utf8").matchAll(/\bfrom\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1] ?? m[2]);

describe("package structure", () => {
  it.each(SERVER_PACKAGES)("when %s is built, then neither its package.json nor its sources name @voting/client", (pkg) => {
    const manifest = JSON.parse(readFileSync(join(root, pkg, "package.json"), "utf8")) as Record<string, Record<string, string> | undefined>;
    for (const field of ["dependencies", "devDependencies", "peerDependencies"]) expect(Object.keys(manifest[field] ?? {})).not.toContain("@voting/client");
    expect(readFileSync(join(root, pkg, "tsconfig.json"), "utf8")).not.toMatch(/\.\.\/client\b/);
    const offenders = sourceFiles(join(root, pkg, "src")).filter((f) => importsOf(f).some((m) => m === "@voting/client" || m.startsWith("@voting/client/")));
    expect(offenders).toEqual([]);
  });

  it("when domain code fails, then it throws domain errors: no domain folder nor server-kit's errors.ts imports gRPC or the contract", () => {
    const domainFiles = ["auth-server", "vote-server", "tally-server"].flatMap((pkg) => sourceFiles(join(root, pkg, "src", "domain")));
    expect(domainFiles.length).toBeGreaterThan(10);
    const offenders = [...domainFiles, join(root, "server-kit", "src", "errors.ts")].filter((f) => importsOf(f).some((m) => m.startsWith("@grpc/") || m === "@voting/api"));
    expect(offenders).toEqual([]);
  });
});
