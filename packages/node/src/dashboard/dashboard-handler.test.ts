import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardAssetsDir } from "./assets-dir.js";
import { createDashboardHandler, DASHBOARD_CONTENT_SECURITY_POLICY } from "./dashboard-handler.js";

const get = (path: string, init?: RequestInit & { host?: string }) =>
  new Request(`http://${init?.host ?? "127.0.0.1:8787"}${path}`, init);

describe("dashboardAssetsDir", () => {
  it("finds the package's dashboard folder from the sources", () => {
    const directory = dashboardAssetsDir();
    expect(directory.endsWith(join("packages", "node", "dashboard"))).toBe(true);
    expect(readFileSync(join(directory, "index.html"), "utf8")).toContain("<main");
  });
});

describe("createDashboardHandler", () => {
  const handler = createDashboardHandler();

  it("serves the page at /, /dashboard and /dashboard/ with a strict CSP and revalidation", async () => {
    const index = readFileSync(join(dashboardAssetsDir(), "index.html"));
    for (const path of ["/", "/dashboard", "/dashboard/"]) {
      const response = await handler(get(path));
      expect(response?.status).toBe(200);
      expect(response?.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(response?.headers.get("cache-control")).toBe("no-cache");
      expect(response?.headers.get("content-security-policy")).toBe(DASHBOARD_CONTENT_SECURITY_POLICY);
      expect(response?.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response?.headers.get("etag")).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
      expect(Buffer.from(await response!.arrayBuffer()).equals(index)).toBe(true);
    }
  });

  it("serves scripts and styles with their content types", async () => {
    const script = await handler(get("/dashboard/dashboard.js"));
    expect(script?.status).toBe(200);
    expect(script?.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(script?.headers.get("content-security-policy")).toBeNull();
    const style = await handler(get("/dashboard/dashboard.css"));
    expect(style?.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(Number(style?.headers.get("content-length"))).toBeGreaterThan(100);
  });

  it("answers 304 to a matching If-None-Match and an empty body to HEAD", async () => {
    const first = await handler(get("/dashboard/state.js"));
    const etag = first!.headers.get("etag")!;
    const again = await handler(get("/dashboard/state.js", { headers: { "if-none-match": `W/${etag}` } }));
    expect(again?.status).toBe(304);
    expect(await again!.text()).toBe("");
    const head = await handler(get("/dashboard/state.js", { method: "HEAD" }));
    expect(head?.status).toBe(200);
    expect(await head!.text()).toBe("");
    expect(head?.headers.get("content-length")).toBe(first?.headers.get("content-length"));
  });

  it("leaves every other path to the caller", async () => {
    for (const path of ["/v1/network", "/dashboards", "/dashboardx/index.html", "/index.html", "/metrics"]) {
      expect(await handler(get(path))).toBeUndefined();
    }
  });

  it("refuses methods other than GET and HEAD on its paths", async () => {
    const response = await handler(get("/dashboard/", { method: "POST", body: "x" }));
    expect(response?.status).toBe(405);
    expect(response?.headers.get("allow")).toBe("GET, HEAD");
  });

  it("refuses paths that leave the assets folder or name no asset", async () => {
    const refused = [
      "/dashboard/..%2f..%2fpackage.json",
      "/dashboard/..%2Fpackage.json",
      "/dashboard/..%5c..%5cpackage.json",
      "/dashboard/vendor/..%2f..%2f..%2fpackage.json",
      "/dashboard/%2e%2e%2fpackage.json",
      "/dashboard/%2fetc%2fpasswd",
      "/dashboard//etc/passwd",
      "/dashboard/index.html%00.js",
      "/dashboard/%00",
      "/dashboard/.gitignore",
      "/dashboard/.npmignore",
      "/dashboard/%2egitignore",
      "/dashboard/%E0%A4%A",
      "/dashboard/C:%5cWindows%5cwin.ini",
      "/dashboard/state",
      "/dashboard/missing.js",
      "/dashboard/vendor",
    ];
    for (const path of refused) {
      const response = await handler(get(path));
      expect({ path, status: response?.status }).toEqual({ path, status: 404 });
    }
    // The URL parser folds dot segments (plain or %2e-encoded) before the handler sees the path: what
    // is left is not a dashboard path at all.
    for (const path of [
      "/dashboard/../package.json",
      "/dashboard/%2e%2e/package.json",
      "/dashboard/.%2e/x.js",
    ]) {
      expect(await handler(get(path))).toBeUndefined();
    }
  });

  describe("over HTTP with raw request targets", () => {
    let server: ReturnType<typeof serve>;
    let port: number;
    beforeAll(async () => {
      const app = new Hono();
      app.use("*", async (c, next) => (await handler(c.req.raw)) ?? next());
      app.get("*", (c) => c.text("fallthrough", 418));
      await new Promise<void>((resolve) => {
        server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve());
      });
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const raw = (target: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1", () => {
          socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
        });
        let data = "";
        socket.on("data", (chunk) => {
          data += chunk.toString("latin1");
        });
        socket.on("end", () => resolve(data));
        socket.on("error", reject);
      });

    it("never answers a file outside the folder", async () => {
      for (const target of [
        "/dashboard/../package.json",
        "/dashboard/../../../../../../etc/passwd",
        "/dashboard/..%2f..%2fpackage.json",
        "/dashboard/%2e%2e/%2e%2e/package.json",
        "/dashboard/..\\..\\package.json",
      ]) {
        const response = await raw(target);
        expect(response).not.toMatch(/@peercycles\/node|root:x:0/);
        expect(response).toMatch(/^HTTP\/1\.1 (404|418|400)/);
      }
      expect(await raw("/dashboard/dashboard.css")).toMatch(/^HTTP\/1\.1 200/);
    });
  });

  describe("with its own assets folder", () => {
    let root: string;
    let assets: string;
    beforeAll(() => {
      root = mkdtempSync(join(tmpdir(), "peer-dashboard-"));
      assets = join(root, "dashboard");
      mkdirSync(join(assets, "vendor"), { recursive: true });
      writeFileSync(join(assets, "index.html"), "<!doctype html><title>t</title>");
      writeFileSync(join(assets, "secret.env"), "TOKEN=1");
      writeFileSync(join(root, "outside.js"), "export const secret = 1;");
      symlinkSync(join(root, "outside.js"), join(assets, "vendor", "link.js"));
    });
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    it("refuses files of kinds it does not serve and links that point out of the folder", async () => {
      const own = createDashboardHandler({ assetsDir: assets });
      expect((await own(get("/dashboard/")))?.status).toBe(200);
      expect((await own(get("/dashboard/secret.env")))?.status).toBe(404);
      expect((await own(get("/dashboard/vendor/link.js")))?.status).toBe(404);
    });
  });

  describe("/dashboard/config.json", () => {
    const policy = { allowSimulated: true };
    const dev = createDashboardHandler({ devConfig: { apiKey: "pc_test", policy, model: "peer-tiny" } });

    it("is served, never cached, to a loopback host on a dev node", async () => {
      for (const host of ["127.0.0.1:8787", "localhost:8787", "[::1]:8787", "localhost"]) {
        const response = await dev(get("/dashboard/config.json", { host }));
        expect(response?.status).toBe(200);
        expect(response?.headers.get("cache-control")).toBe("no-store");
        expect(response?.headers.get("access-control-allow-origin")).toBeNull();
        expect(await response!.json()).toEqual({ apiKey: "pc_test", policy, model: "peer-tiny" });
      }
    });

    it("is not served to another host name (DNS rebinding) or without a dev config", async () => {
      expect((await dev(get("/dashboard/config.json", { host: "evil.example:8787" })))?.status).toBe(404);
      expect((await dev(get("/dashboard/config.json", { host: "10.0.0.5:8787" })))?.status).toBe(404);
      expect((await handler(get("/dashboard/config.json")))?.status).toBe(404);
    });

    it("asks a devConfig function on each request", async () => {
      let config: { apiKey: string } | undefined;
      const lazy = createDashboardHandler({ devConfig: () => config });
      expect((await lazy(get("/dashboard/config.json")))?.status).toBe(404);
      config = { apiKey: "pc_later" };
      expect(await (await lazy(get("/dashboard/config.json")))!.json()).toEqual({
        apiKey: "pc_later",
        policy: null,
        model: null,
      });
    });

    it("takes only a non-empty API key", () => {
      expect(() => createDashboardHandler({ devConfig: { apiKey: "" } })).toThrow(/apiKey/);
    });
  });
});
