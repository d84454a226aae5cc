import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One JSON-RPC method: params in, `result` out; throw {@link RpcMethodError} for a JSON-RPC error. */
export type RpcMethod = (params: readonly unknown[]) => unknown | Promise<unknown>;

/** A JSON-RPC error answer (`code` from the JSON-RPC spec, or Solana's own). */
export class RpcMethodError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = "RpcMethodError";
  }
}

/** A running loopback JSON-RPC server. */
export interface RpcShim {
  readonly url: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1 << 20;

/**
 * Serves Solana-style JSON-RPC 2.0 (single and batch requests) on 127.0.0.1 from a method table.
 * Integers that are bigints are written as JSON numbers, as Solana RPC does. CORS is open so a
 * browser example on another loopback port can read the chain.
 */
export async function startRpcShim(methods: Readonly<Record<string, RpcMethod>>, port = 0): Promise<RpcShim> {
  const server: Server = createServer((request, response) => {
    void handle(methods, request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function handle(
  methods: Readonly<Record<string, RpcMethod>>,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  response.setHeader("Access-Control-Allow-Origin", "*");
  response.setHeader("Access-Control-Allow-Headers", "content-type, solana-client");
  if (request.method === "OPTIONS") {
    response.writeHead(204).end();
    return;
  }
  if (request.method !== "POST") {
    response.writeHead(405, { allow: "POST" }).end();
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse(await readBody(request));
  } catch {
    send(response, { jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } });
    return;
  }
  const answer = Array.isArray(body)
    ? await Promise.all(body.map((call) => dispatch(methods, call)))
    : await dispatch(methods, body);
  send(response, answer);
}

async function dispatch(methods: Readonly<Record<string, RpcMethod>>, call: unknown): Promise<unknown> {
  const {
    id = null,
    method,
    params = [],
  } = (call ?? {}) as { id?: unknown; method?: unknown; params?: unknown };
  const fn = typeof method === "string" && Object.hasOwn(methods, method) ? methods[method] : undefined;
  if (!fn)
    return { jsonrpc: "2.0", id, error: { code: -32601, message: `method not found: ${String(method)}` } };
  try {
    const result = await fn(Array.isArray(params) ? params : []);
    return { jsonrpc: "2.0", id, result };
  } catch (error) {
    const code = error instanceof RpcMethodError ? error.code : -32603;
    return {
      jsonrpc: "2.0",
      id,
      error: { code, message: error instanceof Error ? error.message : String(error) },
    };
  }
}

function send(response: ServerResponse, value: unknown): void {
  const text = JSON.stringify(value, (_key, item: unknown) =>
    typeof item === "bigint" ? Number(item) : item,
  );
  response.writeHead(200, { "content-type": "application/json" }).end(text);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error("body too large"));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}
