// Helpers of the browser tests: Debian's Chromium through playwright-core, axe-core in the page.
import { chromium, type Browser, type Page } from "playwright-core";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { expect } from "vitest";

const require = createRequire(import.meta.url);

export const launchChromium = (): Promise<Browser> =>
  chromium.launch({ executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium", args: ["--no-sandbox"] });

let axeSource: Promise<string> | undefined;

/** Runs axe-core in the page (evaluated, so the page's CSP stays as it is) and fails on serious or critical violations. */
export async function expectAccessible(page: Page): Promise<void> {
  const source = await (axeSource ??= readFile(require.resolve("axe-core/axe.min.js"), "utf8"));
  await page.evaluate(source);
  const violations = await page.evaluate(async () => {
    const r = await (window as unknown as { axe: { run(o: object): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe.run({
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
    });
    return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  });
  expect(violations, `axe on ${page.url()}`).toEqual([]);
}
