/**
 * The floor under the node's added latency: the hops the architecture requires and nothing else.
 *
 * An HTTP server (the orchestrator's place) sends each request body over a WebSocket to a client in
 * this process (the worker host's place), which passes it over IPC (`fork`, `serialization:
 * "advanced"`, as the worker does) to a forked process (the enclave's place), which calls the upstream
 * over HTTP and sends the response's bytes back the same way, chunk by chunk. The HTTP server writes
 * them out as they come. No auth, ledger, routing, parsing, receipts or signing: whatever this relay
 * adds over calling the upstream directly, the node cannot avoid while keeping those process
 * boundaries, so the node's added latency is read against it.
 */
import { type ChildProcess, fork } from "node:child_process";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { WebSocket, WebSocketServer } from "ws";

export interface FloorRelay {
  /** The relay's chat-completions URL. */
  readonly url: string;
  /** The relay's enclave-place process. */
  readonly pid: number | undefined;
  close(): Promise<void>;
}

interface FromEnclave {
  id: number;
  chunk?: Uint8Array;
  end?: true;
}

export async function startFloorRelay(upstreamUrl: string): Promise<FloorRelay> {
  const child: ChildProcess = fork(
    fileURLToPath(new URL("./floor-relay-enclave.mjs", import.meta.url)),
    [upstreamUrl],
    {
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    child.once("exit", (code) => reject(new Error(`floor relay: enclave process exited ${code}`)));
  });

  // The host's place: a WebSocket client that relays between the socket and the child.
  const sockets = new WebSocketServer({ noServer: true });
  const pending = new Map<number, ServerResponse>();
  let nextId = 0;
  const server: Server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => {
      const id = nextId++;
      pending.set(id, response);
      orchestratorSide.send(JSON.stringify({ id, body: Buffer.concat(parts).toString("utf8") }));
    });
  });
  server.on("upgrade", (request, socket, head) =>
    sockets.handleUpgrade(request, socket, head, (ws) => sockets.emit("connection", ws)),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const connected = new Promise<WebSocket>((resolve) => sockets.once("connection", resolve));
  const host = new WebSocket(`ws://127.0.0.1:${port}/worker`);
  await new Promise<void>((resolve, reject) => {
    host.once("open", resolve);
    host.once("error", reject);
  });
  const orchestratorSide = await connected;

  host.on("message", (data: Buffer) => {
    const { id, body } = JSON.parse(data.toString("utf8")) as { id: number; body: string };
    child.send({ id, body: new TextEncoder().encode(body) });
  });
  child.on("message", (message: FromEnclave) => {
    // The host frames the bytes for the socket: [id (4 bytes)] [0 = chunk, 1 = end] [bytes].
    const frame = new Uint8Array(5 + (message.chunk?.length ?? 0));
    new DataView(frame.buffer).setUint32(0, message.id);
    frame[4] = message.end ? 1 : 0;
    if (message.chunk) frame.set(message.chunk, 5);
    host.send(frame);
  });
  let headersSent = new Set<number>();
  orchestratorSide.on("message", (data: Buffer) => {
    const id = data.readUInt32BE(0);
    const response = pending.get(id);
    if (!response) return;
    if (data[4] === 1) {
      pending.delete(id);
      headersSent.delete(id);
      response.end();
      return;
    }
    const bytes = data.subarray(5);
    if (!headersSent.has(id)) {
      headersSent.add(id);
      // The first bytes tell a stream from a JSON body (an SSE stream starts with "data:").
      const isStream = bytes.subarray(0, 5).toString("latin1") === "data:";
      response.writeHead(200, { "content-type": isStream ? "text/event-stream" : "application/json" });
    }
    response.write(bytes);
  });

  return {
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    pid: child.pid,
    async close() {
      host.close();
      sockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      child.kill();
      headersSent = new Set();
    },
  };
}
