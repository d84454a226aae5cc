import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";

/** Serves a fetch handler on 127.0.0.1 at a free port, for tests over real HTTP. */
export async function serveHandler(
  handle: (request: Request) => Promise<Response>,
): Promise<{ url: string; close: () => Promise<void> }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: handle, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            (server as { closeAllConnections?: () => void }).closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
  });
}
