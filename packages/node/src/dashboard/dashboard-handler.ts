import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, realpath, stat } from "node:fs/promises";
import { dirname, join, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { dashboardAssetsDir } from "./assets-dir.js";
import { dashboardContentType } from "./content-types.js";

/**
 * What the page's "try it" panel needs to send requests: served at `/dashboard/config.json`.
 * Only a `--dev` node bound to loopback passes one; anyone who can read it can spend the account.
 */
export interface DashboardDevConfig {
  /** The dev account's API key (`pc_…`). */
  readonly apiKey: string;
  /** The attestation policy the page's confidential call verifies under (JSON, as in `docs/policies/`). */
  readonly policy?: unknown;
  /** Model the panel preselects; the page lists `GET /v1/models` too. */
  readonly model?: string;
}

export interface DashboardHandlerOptions {
  /**
   * Serve `/dashboard/config.json` with this content (dev nodes on loopback only). A function is
   * asked on each request, for a node whose dev account exists only once its HTTP server listens;
   * while it returns `undefined` the path answers 404.
   */
  readonly devConfig?: DashboardDevConfig | (() => DashboardDevConfig | undefined);
  /** The static files; {@link dashboardAssetsDir} when absent. */
  readonly assetsDir?: string;
}

/** A fetch-style handler: a `Response` for the dashboard's paths, `undefined` for every other path. */
export type DashboardHandler = (request: Request) => Promise<Response | undefined>;

/** Path of the bundled `@peercycles/client` inside the assets folder. */
export const DASHBOARD_CLIENT_BUNDLE = "vendor/peercycles-client.js";

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Content-Security-Policy of the page: its own scripts, styles and API, nothing else. */
export const DASHBOARD_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const COMMON_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/**
 * Serves the live dashboard: `GET /`, `/dashboard` and `/dashboard/` answer `index.html`,
 * `/dashboard/<file>` the page's assets (content type by extension, `ETag` and `cache-control:
 * no-cache` so an upgraded node is seen at once), `/dashboard/config.json` the dev config when one is
 * given and the request names a loopback host (a DNS-rebinding page cannot read it). Paths that leave
 * the assets folder (`..`, encoded slashes or backslashes, NUL, hidden files, symbolic links out) are
 * refused with 404. Every other path returns `undefined` so the caller's router goes on.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * const dashboard = createDashboardHandler({ devConfig: dev ? { apiKey, policy } : undefined });
 * const app = new Hono();
 * app.use("*", async (c, next) => (await dashboard(c.req.raw)) ?? next());
 * ```
 */
export function createDashboardHandler(options: DashboardHandlerOptions = {}): DashboardHandler {
  const devConfigOption = options.devConfig;
  if (typeof devConfigOption === "object" && !validDevConfig(devConfigOption)) {
    throw new TypeError("createDashboardHandler: devConfig.apiKey must be a non-empty string");
  }
  const currentDevConfig = (): DashboardDevConfig | undefined => {
    const value = typeof devConfigOption === "function" ? devConfigOption() : devConfigOption;
    return value && validDevConfig(value) ? value : undefined;
  };
  let root: string | undefined = options.assetsDir;
  let realRoot: Promise<string> | undefined;
  const assetsRoot = (): string => {
    root ??= dashboardAssetsDir();
    return root;
  };

  return async (request) => {
    const url = new URL(request.url);
    const path = url.pathname;
    let relative: string[] | "config";
    if (path === "/" || path === "/dashboard" || path === "/dashboard/") relative = ["index.html"];
    else if (path === "/dashboard/config.json") relative = "config";
    else if (path.startsWith("/dashboard/")) {
      const segments = safeSegments(path.substring("/dashboard/".length));
      if (!segments) return notFound();
      relative = segments;
    } else return undefined;

    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("method not allowed\n", {
        status: 405,
        headers: { ...COMMON_HEADERS, allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" },
      });
    }

    if (relative === "config") {
      const devConfig = LOOPBACK_HOSTS.has(url.hostname) ? currentDevConfig() : undefined;
      if (!devConfig) return notFound();
      const body = JSON.stringify({
        apiKey: devConfig.apiKey,
        policy: devConfig.policy ?? null,
        model: devConfig.model ?? null,
      });
      return new Response(request.method === "HEAD" ? null : body, {
        headers: {
          ...COMMON_HEADERS,
          "content-type": "application/json; charset=utf-8",
          "cache-control": "no-store",
        },
      });
    }

    const directory = assetsRoot();
    const contentType = dashboardContentType(relative[relative.length - 1]!);
    if (!contentType) return notFound();
    const file = join(directory, ...relative);
    if (!file.startsWith(directory + sep)) return notFound();
    if (relative.join("/") === DASHBOARD_CLIENT_BUNDLE) await ensureClientBundle(directory);

    let body: Buffer;
    try {
      realRoot ??= realpath(directory);
      const [resolved, base] = await Promise.all([realpath(file), realRoot]);
      if (!resolved.startsWith(base + sep)) return notFound();
      if (!(await stat(resolved)).isFile()) return notFound();
      body = await readFile(resolved);
    } catch {
      return notFound();
    }

    const etag = `"${createHash("sha256").update(body).digest("base64url").substring(0, 27)}"`;
    const headers: Record<string, string> = {
      ...COMMON_HEADERS,
      "content-type": contentType,
      "cache-control": "no-cache",
      etag,
    };
    if (contentType.startsWith("text/html")) {
      headers["content-security-policy"] = DASHBOARD_CONTENT_SECURITY_POLICY;
      headers["x-frame-options"] = "DENY";
    }
    if (etagMatches(request.headers.get("if-none-match"), etag)) {
      return new Response(null, { status: 304, headers });
    }
    headers["content-length"] = String(body.byteLength);
    return new Response(request.method === "HEAD" ? null : new Uint8Array(body), { headers });
  };
}

/**
 * Splits the part of a path after `/dashboard/` into file-name segments, or `undefined` when any
 * segment could step out of the folder or name something that is not a plain asset.
 */
function safeSegments(rest: string): string[] | undefined {
  if (rest === "") return undefined;
  const segments: string[] = [];
  for (const raw of rest.split("/")) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (segment === "" || segment.startsWith(".")) return undefined;
    if (/[/\\\0:]/.test(segment)) return undefined;
    segments.push(segment);
  }
  return segments;
}

function validDevConfig(value: DashboardDevConfig): boolean {
  return typeof value.apiKey === "string" && value.apiKey !== "";
}

function etagMatches(header: string | null, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((candidate) => {
    const value = candidate.trim();
    return value === "*" || value === etag || value === `W/${etag}`;
  });
}

function notFound(): Response {
  return new Response("not found\n", {
    status: 404,
    headers: { ...COMMON_HEADERS, "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
  });
}

let building: Promise<void> | undefined;

/**
 * A node run from the repository's sources (tsx, tests) may not have built the client bundle yet:
 * build it once, on the first request for it, with the package's own build script. The published
 * package always ships the bundle (its `build` script writes it) and has no script to run.
 */
async function ensureClientBundle(directory: string): Promise<void> {
  if (existsSync(join(directory, DASHBOARD_CLIENT_BUNDLE))) return;
  const script = join(dirname(directory), "scripts", "build-dashboard.mjs");
  if (!existsSync(script)) return;
  building ??= import(pathToFileURL(script).href)
    .then((module: { buildDashboardClient: () => Promise<unknown> }) => module.buildDashboardClient())
    .then(
      () => undefined,
      (error: unknown) => {
        building = undefined;
        console.error("@peercycles/node: could not build the dashboard's client bundle:", error);
      },
    );
  await building;
}
