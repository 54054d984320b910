// The README is part of the product: it opens with the two commands, and its configuration
// table lists every setting a server reads.
import { describe, expect, it } from "vitest";
import { readFile } from "node:fs/promises";
import { authSettings } from "@voting/auth-server";
import { voteSettings } from "@voting/vote-server";
import { tallySettings } from "@voting/tally-server";
import { WEB_ENV } from "@voting/web";

const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");

describe("README", () => {
  it("opens with the start and test commands", () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)![1];
    expect(readme.indexOf("```sh")).toBeLessThan(200);
    expect(firstBlock).toMatch(/^npm ci && npm start/m);
    expect(firstBlock).toMatch(/^npm test/m);
  });

  it("documents every setting with its default", () => {
    for (const [name, s] of Object.entries({ ...authSettings, ...voteSettings, ...tallySettings })) {
      const row = readme.split("\n").find((l) => l.startsWith(`| \`${name}\` |`));
      expect(row, name).toBeDefined();
      if (s.default) expect(row, name).toContain(`\`${s.default}\``);
    }
  });

  it("documents every variable the web front end reads", () => {
    for (const name of WEB_ENV) expect(readme.split("\n").some((l) => l.startsWith(`| \`${name}\` |`)), name).toBe(true);
  });
});
