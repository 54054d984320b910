// The API contract: protos pass buf lint, and the committed generated code and descriptor
// set are exactly what `npm run generate` produces from them.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const buf = join(root, "node_modules", ".bin", "buf");
const run = (...args: string[]) => execFileSync(buf, args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p)));
    else out.push(p);
  }
  return out.sort();
}

describe("the protobuf contract", () => {
  it("passes buf lint (STANDARD and COMMENTS)", () => {
    expect(run("lint")).toBe("");
  });

  it("matches the committed generated TypeScript and descriptor set", async () => {
    const out = await mkdtemp(join(tmpdir(), "voting-gen-"));
    try {
      run("generate", "--output", out);
      run("build", "-o", join(out, "descriptors.binpb"));
      const committed = join(root, "api", "src", "gen");
      const fresh = join(out, "api", "src", "gen");
      const names = async (d: string) => (await files(d)).map((f) => relative(d, f));
      expect(await names(fresh)).toEqual(await names(committed));
      for (const name of await names(committed)) {
        expect(await readFile(join(fresh, name), "utf8"), name).toBe(await readFile(join(committed, name), "utf8"));
      }
      expect((await readFile(join(out, "descriptors.binpb"))).equals(await readFile(join(root, "api", "descriptors.binpb")))).toBe(true);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});

