/**
 * The live node dashboard: static pages shipped in the package (`dashboard/`), fed by
 * `GET /v1/network` and `GET /v1/network/events`, and a fetch-style handler that serves them.
 *
 * @example
 * ```ts
 * import { createDashboardHandler } from "@peercycles/node";
 * const dashboard = createDashboardHandler({ devConfig: { apiKey, policy } });
 * app.use("*", async (c, next) => (await dashboard(c.req.raw)) ?? next());
 * ```
 *
 * @packageDocumentation
 */
export { dashboardAssetsDir } from "./assets-dir.js";
export { DASHBOARD_CONTENT_TYPES, dashboardContentType } from "./content-types.js";
export {
  createDashboardHandler,
  DASHBOARD_CLIENT_BUNDLE,
  DASHBOARD_CONTENT_SECURITY_POLICY,
  type DashboardDevConfig,
  type DashboardHandler,
  type DashboardHandlerOptions,
} from "./dashboard-handler.js";
