// A confidential call from a web page: @peercycles/client bundled for the browser (esbuild,
// platform "browser") and loaded as an ES module by a page on the reference node's origin, in
// Debian's headless Chromium driven by playwright-core. The page attests the dev node's simulated
// enclave, seals the prompt with WebCrypto + noble, opens the answer and the stream, and checks the
// receipts; under a policy without allowSimulated it is refused with attestation_rejected.
//
// Chromium is required: without it this test fails (it never skips). PEER_CHROMIUM overrides the
// path (default /usr/bin/chromium).
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type RunningNode, startNode } from "@peercycles/node";
import { build } from "esbuild";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const CHROMIUM = process.env.PEER_CHROMIUM ?? "/usr/bin/chromium";
const root = fileURLToPath(new URL("../../../", import.meta.url));
const policy = JSON.parse(readFileSync(join(root, "docs/policies/development-simulated.json"), "utf8"));

let node: RunningNode;
let dataDir: string;
let browser: Browser;
let page: Page;
let setupError: Error | undefined;

/** The client's browser bundle, in memory: path under /peer-client-test/ → bytes. */
async function bundleClient(): Promise<Map<string, Uint8Array>> {
  const result = await build({
    entryPoints: { index: join(root, "packages/client/src/index.ts") },
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    outdir: "/bundle",
    write: false,
    logLevel: "silent",
    plugins: [
      {
        name: "workspace-sources",
        setup(builder) {
          builder.onResolve({ filter: /^@peercycles\/[a-z0-9-]+(\/[a-z0-9-]+)?$/ }, (args) => {
            const [, pkg, sub] = /^@peercycles\/([a-z0-9-]+)(?:\/([a-z0-9-]+))?$/.exec(args.path) ?? [];
            const file = join(root, "packages", pkg ?? "", "src", sub ?? "", "index.ts");
            return existsSync(file) ? { path: file, sideEffects: false } : undefined;
          });
        },
      },
    ],
  });
  return new Map(result.outputFiles.map((file) => [file.path.replace("/bundle/", ""), file.contents]));
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    setupError = new Error(
      `Chromium is missing at ${CHROMIUM}: this test needs Debian's chromium (apt-get install -y chromium) or PEER_CHROMIUM`,
    );
    return;
  }
  const files = await bundleClient();
  dataDir = mkdtempSync(join(tmpdir(), "peercycles-client-browser-"));
  node = await startNode({ dev: true, port: 0, dataDir });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  page = await browser.newPage();
  // The page and the bundle are served on the node's origin (so no CORS is involved); every other
  // request goes to the real node.
  await page.route(`${node.url}/peer-client-test/**`, async (route) => {
    const path = new URL(route.request().url()).pathname.replace("/peer-client-test/", "");
    if (path === "page.html") {
      await route.fulfill({
        contentType: "text/html",
        body: "<!doctype html><title>peer client test</title>",
      });
      return;
    }
    const body = files.get(path);
    if (!body) await route.fulfill({ status: 404, body: "" });
    else await route.fulfill({ contentType: "text/javascript", body: Buffer.from(body) });
  });
  await page.goto(`${node.url}/peer-client-test/page.html`);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await node?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

interface PageResult {
  readonly text?: string;
  readonly streamed?: string;
  readonly verification?: {
    ok: boolean;
    tier: string;
    simulated: boolean;
    attestation: { tee: string } | null;
  };
  readonly streamVerification?: { ok: boolean; tier: string };
  readonly error?: { code?: string; name?: string; message: string };
  readonly isNode?: boolean;
}

/**
 * What the page runs: a confidential call (JSON, then stream). Kept as source text, so the test
 * runner does not rewrite its `import()` for Node.
 */
const PAGE_CALL = `async ({ policy, apiKey }) => {
  const client = await import("/peer-client-test/index.js");
  const peer = new client.PeerCycles({
    baseURL: location.origin,
    apiKey,
    tier: "confidential",
    policy,
    dangerouslyAllowBrowser: true,
  });
  const messages = [{ role: "user", content: "a secret typed into a web page" }];
  try {
    const completion = await peer.chat.completions.create({ model: "peer-tiny", messages });
    const stream = await peer.chat.completions.create({ model: "peer-tiny", messages, stream: true });
    let streamed = "";
    let streamVerification;
    for await (const chunk of stream) {
      streamed += chunk.choices[0]?.delta?.content ?? "";
      streamVerification ??= client.peerVerificationOf(chunk);
    }
    return {
      text: completion.choices[0]?.message.content,
      verification: client.peerVerificationOf(completion),
      streamed,
      streamVerification,
      isNode: typeof globalThis.process !== "undefined",
    };
  } catch (error) {
    return { error: { code: error.code, name: error.name, message: error.message } };
  }
}`;

/** Runs {@link PAGE_CALL} in the page with `policy`. */
function callFromPage(pagePolicy: unknown): Promise<PageResult> {
  return page.evaluate(
    `(${PAGE_CALL})(${JSON.stringify({ policy: pagePolicy, apiKey: node.apiKey })})`,
  ) as Promise<PageResult>;
}

describe("a confidential call from a web page (headless Chromium) against the dev node", () => {
  it("attests, seals, opens and verifies in the page, JSON and stream", async () => {
    if (setupError) throw setupError;
    const result = await callFromPage(policy);
    expect(result.error).toBeUndefined();
    expect(result.isNode).toBe(false);
    expect(result.text?.length).toBeGreaterThan(0);
    expect(result.streamed?.length).toBeGreaterThan(0);
    expect(result.verification).toMatchObject({ ok: true, tier: "confidential", simulated: true });
    expect(result.verification?.attestation?.tee).toBe("tdx");
    expect(result.streamVerification).toMatchObject({ ok: true, tier: "confidential" });
  }, 60_000);

  it("refuses the simulated enclave under a policy without allowSimulated: attestation_rejected", async () => {
    if (setupError) throw setupError;
    const result = await callFromPage({ ...policy, allowSimulated: false });
    expect(result.error?.name).toBe("PeerCyclesError");
    expect(result.error?.code).toBe("attestation_rejected");
  }, 60_000);
});
