// The dashboard end to end: a real `--dev` node (orchestrator, open / verified / cheating / simulated
// confidential workers, validator, ledger) in this process, the page in Debian's headless Chromium
// driven by playwright-core. One request per tier goes out from the page's "try it" panel through
// @peercycles/client (the confidential one sealed in the page), the figures change, and verified
// requests continue until the validator catches the cheater and the page shows the slash.
//
// Chromium is required: without it this test fails (it never skips). Screenshots go to
// test-results/dashboard/ (or $PEER_TEST_OUTPUT/dashboard/); PEER_UPDATE_DOCS_SCREENSHOT=1 also
// refreshes docs/images/dashboard.png.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningNode, startNode } from "../start-node.js";
import { dashboardAssetsDir } from "./assets-dir.js";

const CHROMIUM = process.env.PEER_CHROMIUM ?? "/usr/bin/chromium";
const repositoryRoot = resolve(dashboardAssetsDir(), "..", "..", "..");
const outputDir = join(process.env.PEER_TEST_OUTPUT ?? join(repositoryRoot, "test-results"), "dashboard");
const MAX_VERIFIED_JOBS_FOR_SLASH = 40;

let node: RunningNode;
let browser: Browser;
let page: Page;
let dataDir: string;
const pageErrors: string[] = [];
/** Why the browser could not be set up; each test fails with it (a missing Chromium never skips). */
let setupError: Error | undefined;

function requireBrowser(): void {
  if (setupError) throw setupError;
}

/** The text of an element as the DOM has it. */
async function text(locator: Locator): Promise<string> {
  return ((await locator.textContent()) ?? "").trim();
}

async function figure(key: string): Promise<string> {
  return text(page.locator(`[data-figure="${key}"]`));
}

/** The leading integer of a figure such as `1,234 cr $12.34`. */
async function figureNumber(key: string): Promise<number> {
  const text = await figure(key);
  const match = /^-?[\d,]+/.exec(text);
  if (!match) throw new Error(`figure ${key} is not a number: ${text}`);
  return Number(match[0].replaceAll(",", ""));
}

async function screenshot(name: string): Promise<string> {
  const file = join(outputDir, name);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Sends one request from the panel and waits for its answer (or its error) to be shown. */
async function sendFromPanel(tier: "open" | "verified" | "confidential", prompt: string, stream = false) {
  await page.locator(`input[name="tier"][value="${tier}"]`).check();
  await page.locator("#try-prompt").fill(prompt);
  await page.locator("#try-stream").setChecked(stream);
  const before = await page.locator("#try-results article").count();
  await page.locator("#try-send").click();
  const article = page.locator("#try-results article").first();
  await expect.poll(() => page.locator("#try-results article").count(), { timeout: 30_000 }).toBe(before + 1);
  await expect.poll(() => article.getAttribute("data-state"), { timeout: 60_000 }).not.toBe("pending");
  return article;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    // Thrown from each test rather than from this hook, so the tests are counted as failed, not skipped.
    setupError = new Error(
      `Chromium is missing at ${CHROMIUM}: the dashboard test needs Debian's chromium ` +
        "(apt-get install -y chromium) or PEER_CHROMIUM pointing at a Chromium binary",
    );
    return;
  }
  mkdirSync(outputDir, { recursive: true });
  // The page's client bundle, built the way the package build builds it.
  const script = pathToFileURL(join(dashboardAssetsDir(), "..", "scripts", "build-dashboard.mjs")).href;
  const { buildDashboardClient } = (await import(script)) as { buildDashboardClient: () => Promise<string> };
  await buildDashboardClient();

  dataDir = mkdtempSync(join(tmpdir(), "peer-dashboard-e2e-"));
  node = await startNode({ dev: true, port: 0, dataDir, validationRate: 1 });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: "light" });
  page = await context.newPage();
  page.on("pageerror", (error) => pageErrors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(`console: ${message.text()}`);
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await node?.close({ graceMs: 2_000 });
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe("the live dashboard of a --dev node", () => {
  it("streams the network, answers one request per tier from the page, and shows the cheater slashed", async () => {
    requireBrowser();
    await page.goto(`${node.url}/`);
    await expect.poll(() => page.locator("#connection").getAttribute("data-state")).toBe("live");

    // Workers by tier, from the snapshot: open, two verified (one the cheater), the simulated TEE.
    await expect
      .poll(() => page.locator("[data-workers] tbody tr[data-worker]").count())
      .toBeGreaterThanOrEqual(5);
    await expect(page.locator('[data-workers="verified"] tbody tr[data-worker]').count()).resolves.toBe(2);
    await expect(text(page.locator('[data-workers="confidential"] tbody'))).resolves.toMatch(
      /verified · tdx · UpToDate · 1 GPU · simulated/,
    );
    await expect(text(page.locator("[data-evidence]").first())).resolves.toMatch(/mrTd[\s\S]*rtmr0/);

    // The panel got the dev node's key from /dashboard/config.json.
    await expect.poll(() => page.locator("#try-form").getAttribute("data-ready")).toBe("true");
    await expect(page.locator("#try-key").inputValue()).resolves.toBe(node.apiKey);

    const jobsBefore = await figureNumber("jobs.total");
    const circulationBefore = await figureNumber("ledger.creditsInCirculation");
    const earningsBefore = await figureNumber("ledger.workerEarnings");
    await screenshot("01-connected.png");

    // One request per tier, from the page, through @peercycles/client.
    const open = await sendFromPanel("open", "Say hello to the open tier.");
    await expect(open.getAttribute("data-state")).resolves.toBe("verified");
    await expect(text(open.locator('[data-verification="Tier served"]'))).resolves.toBe("open");

    const verified = await sendFromPanel("verified", "Why do workers post a bond?");
    await expect(verified.getAttribute("data-state")).resolves.toBe("verified");
    await expect(text(verified.locator('[data-verification="Receipt"]'))).resolves.toMatch(/[0-9a-f]{8}/);

    const confidential = await sendFromPanel("confidential", "Keep this prompt between us.", true);
    await expect(confidential.getAttribute("data-state")).resolves.toBe("verified");
    await expect(text(confidential.locator('[data-verification="TEE"]'))).resolves.toBe("tdx");
    await expect(text(confidential.locator('[data-verification="Evidence"]'))).resolves.toMatch(/simulated/);
    await expect(text(confidential.locator(".content"))).resolves.not.toBe("");

    // The figures moved, from the node's own snapshot and events.
    await expect
      .poll(() => figureNumber("jobs.total"), { timeout: 15_000 })
      .toBeGreaterThanOrEqual(jobsBefore + 3);
    await expect.poll(() => figureNumber("ledger.creditsInCirculation")).toBeLessThan(circulationBefore);
    await expect.poll(() => figureNumber("ledger.workerEarnings")).toBeGreaterThan(earningsBefore);
    for (const tier of ["open", "verified", "confidential"]) {
      await expect
        .poll(() => page.locator(`#job-rows tr[data-tier="${tier}"][data-status="ok"]`).count())
        .toBeGreaterThanOrEqual(1);
    }
    // The confidential prompt is on the page only as the size of its ciphertext.
    const sealed = page.locator('#job-rows tr[data-tier="confidential"] td[data-sealed]').first();
    await expect.poll(async () => Number(await sealed.getAttribute("data-sealed"))).toBeGreaterThan(0);
    await expect(text(page.locator("#job-rows"))).resolves.not.toContain("Keep this prompt");
    await expect(
      page.locator('#proof-rows tr[data-proof="receipt"]').count(),
    ).resolves.toBeGreaterThanOrEqual(2);
    await expect(page.locator("#throughput-chart svg circle").count()).resolves.toBeGreaterThanOrEqual(3);
    await screenshot("02-one-request-per-tier.png");

    // Verified jobs until the validator (re-executing every job) catches the cheater.
    let sent = 0;
    while ((await page.locator("#slash-rows tr[data-slash]").count()) === 0) {
      if (sent >= MAX_VERIFIED_JOBS_FOR_SLASH) {
        throw new Error(`no slash shown after ${sent} verified jobs at validation rate 1`);
      }
      await sendFromPanel("verified", `Verified job number ${sent + 1}: what is a receipt?`, sent % 2 === 1);
      sent += 1;
      await page.waitForTimeout(300);
    }
    const slash = page.locator("#slash-rows tr[data-slash]").first();
    await expect(text(slash.locator("th"))).resolves.toBe("verified-cheater");
    await expect(text(slash)).resolves.toMatch(/\d+ cr/);
    await expect(
      page.locator('#proof-rows tr[data-proof="reexecution"][data-match="false"]').count(),
    ).resolves.toBeGreaterThan(0);
    await expect(page.locator('#feed-list li[data-event="worker.slashed"]').count()).resolves.toBeGreaterThan(
      0,
    );
    await expect.poll(() => figureNumber("jobs.mismatches"), { timeout: 15_000 }).toBeGreaterThan(0);
    await expect.poll(() => figureNumber("ledger.burned"), { timeout: 15_000 }).toBeGreaterThan(0);
    const cheaterRow = page.locator('[data-workers="verified"] tr.slashed');
    await expect.poll(() => cheaterRow.count(), { timeout: 15_000 }).toBe(1);

    // Let the charts, series table and feed settle on the figures, then record the page.
    await page.waitForTimeout(500);
    const final = await screenshot("03-cheater-slashed.png");
    if (process.env.PEER_UPDATE_DOCS_SCREENSHOT === "1") {
      const docs = join(repositoryRoot, "docs", "images", "dashboard.png");
      mkdirSync(dirname(docs), { recursive: true });
      copyFileSync(final, docs);
    }
    expect(pageErrors).toEqual([]);
  }, 300_000);

  it("is accessible: landmarks, one h1, labelled controls, captioned tables, a live log, contrast", async () => {
    requireBrowser();
    if (!page.url().startsWith(node.url)) {
      await page.goto(`${node.url}/dashboard`);
      await expect.poll(() => page.locator("#connection").getAttribute("data-state")).toBe("live");
    }
    const audit = () =>
      page.evaluate(() => {
        const problems: string[] = [];
        const count = (selector: string) => document.querySelectorAll(selector).length;
        if (count("header") < 1) problems.push("no banner");
        if (count("nav[aria-label]") !== 1) problems.push("no labelled navigation");
        if (count("main") !== 1) problems.push("not exactly one main");
        if (count("aside[aria-labelledby]") !== 2) problems.push("complementary regions missing");
        if (count("h1") !== 1) problems.push("not exactly one h1");
        if (!document.querySelector('[role="log"][aria-live="polite"]')) problems.push("no live event log");
        for (const control of document.querySelectorAll("input, select, textarea, button")) {
          const element = control as HTMLInputElement;
          const named =
            (element.labels && element.labels.length > 0) ||
            element.getAttribute("aria-label") ||
            (element.tagName === "BUTTON" && element.textContent?.trim());
          if (!named) problems.push(`unlabelled control ${element.outerHTML.substring(0, 80)}`);
        }
        for (const table of document.querySelectorAll("table")) {
          if (!table.querySelector("caption")) problems.push("table without caption");
          if (!table.querySelector('thead th[scope="col"]')) problems.push("table without column headers");
        }
        // WCAG contrast of every piece of visible text against its effective background.
        const parse = (value: string) => {
          const numbers = value.match(/[\d.]+/g)?.map(Number) ?? [0, 0, 0, 0];
          return { r: numbers[0]!, g: numbers[1]!, b: numbers[2]!, a: numbers[3] ?? 1 };
        };
        const luminance = ({ r, g, b }: { r: number; g: number; b: number }) => {
          const channel = (value: number) => {
            const c = value / 255;
            return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
          };
          return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
        };
        const background = (element: Element | null) => {
          for (let node = element; node; node = node.parentElement) {
            const color = parse(getComputedStyle(node).backgroundColor);
            if (color.a > 0.5) return color;
          }
          return { r: 255, g: 255, b: 255, a: 1 };
        };
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        let checked = 0;
        for (let text = walker.nextNode(); text; text = walker.nextNode()) {
          const element = text.parentElement;
          if (
            !element ||
            !text.textContent?.trim() ||
            element.closest("svg, .skip-link, details:not([open]) > :not(summary)")
          )
            continue;
          const style = getComputedStyle(element);
          if (
            style.visibility === "hidden" ||
            style.display === "none" ||
            element.getClientRects().length === 0
          )
            continue;
          const opacity = Number(style.opacity);
          const foreground = parse(style.color);
          const back = background(element);
          const l1 = luminance(foreground);
          const l2 = luminance(back);
          const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
          const size = Number.parseFloat(style.fontSize);
          const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
          const needed = large ? 3 : 4.5;
          checked += 1;
          if (ratio * opacity < needed && !element.closest("button:disabled")) {
            problems.push(
              `contrast ${ratio.toFixed(2)} < ${needed}: "${text.textContent.trim().substring(0, 40)}"`,
            );
          }
        }
        return { problems, checked };
      });
    for (const colorScheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme });
      const report = await audit();
      expect(report.checked).toBeGreaterThan(100);
      expect({ colorScheme, problems: report.problems }).toEqual({ colorScheme, problems: [] });
    }
    await page.screenshot({ path: join(outputDir, "04-dark.png"), fullPage: true });
    await page.emulateMedia({ colorScheme: "light" });

    // Keyboard: on a fresh load the first Tab reaches the skip link, which moves focus to the figures.
    await page.goto(`${node.url}/dashboard`);
    await page.keyboard.press("Tab");
    await expect(page.evaluate(() => document.activeElement?.className)).resolves.toBe("skip-link");
    await page.keyboard.press("Enter");
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe("main");
  }, 60_000);
});
