import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type JobMessage,
  parseWorkerMessage,
  WORKER_ENDPOINT_PATH,
  type WorkerHello,
  type WorkerMessage,
} from "@peercycles/protocol";
import { type WebSocket, WebSocketServer } from "ws";

/**
 * A test stand-in for the orchestrator's worker endpoint: answers `hello` with `welcome` (or
 * `rejected`), parses every worker frame with the protocol's own schema (a frame that does not
 * parse fails the test through `errors`), and lets a test send jobs and await their answers.
 */
export interface FakeOrchestrator {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly connections: FakeConnection[];
  /** Worker frames that did not parse. */
  readonly errors: string[];
  /** Resolves with the `index`-th connection once it said hello (and was welcomed or rejected). */
  connection(index: number): Promise<FakeConnection>;
  close(): Promise<void>;
}

export interface JobOutcome {
  readonly chunks: Extract<WorkerMessage, { type: "chunk" }>[];
  readonly sealedChunks: Extract<WorkerMessage, { type: "sealed_chunk" }>[];
  readonly result?: Extract<WorkerMessage, { type: "result" }>;
  readonly error?: Extract<WorkerMessage, { type: "job_error" }>;
}

export interface FakeConnection {
  readonly hello: WorkerHello;
  readonly workerId: string;
  /** Every message after the hello, a `chunks` frame's chunks one by one. */
  readonly messages: WorkerMessage[];
  /** The frames as they came (a `chunks` frame once). */
  readonly frames: WorkerMessage[];
  readonly socket: WebSocket;
  readonly closed: Promise<{ code: number }>;
  send(message: object | string): void;
  /** Sends a job (defaults filled in) and resolves with its answer. */
  job(job: Partial<JobMessage> & { job_id: string }, timeoutMs?: number): Promise<JobOutcome>;
  /** Resolves with the terminal answer of `jobId` (result or job_error). */
  outcome(jobId: string, timeoutMs?: number): Promise<JobOutcome>;
  /** Resolves with the first message matching `predicate`, past or future. */
  waitFor<T extends WorkerMessage>(
    predicate: (message: WorkerMessage) => message is T,
    timeoutMs?: number,
  ): Promise<T>;
  waitFor(predicate: (message: WorkerMessage) => boolean, timeoutMs?: number): Promise<WorkerMessage>;
}

export interface FakeOrchestratorOptions {
  /** Answer every hello with `rejected`. */
  readonly reject?: { code: string; message: string };
  /** Answer hellos after this many with `rejected` (reconnection rejected). */
  readonly rejectAfter?: number;
}

export async function startFakeOrchestrator(
  options: FakeOrchestratorOptions = {},
): Promise<FakeOrchestrator> {
  const server: Server = createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  const wss = new WebSocketServer({ server, path: WORKER_ENDPOINT_PATH });
  const connections: FakeConnection[] = [];
  const errors: string[] = [];
  const waiters: Array<() => void> = [];
  let count = 0;

  wss.on("connection", (socket) => {
    const messages: WorkerMessage[] = [];
    const frames: WorkerMessage[] = [];
    const listeners = new Set<() => void>();
    let closeCode: (value: { code: number }) => void;
    const closed = new Promise<{ code: number }>((resolve) => {
      closeCode = resolve;
    });
    socket.on("close", (code) => closeCode({ code }));
    let connection: FakeConnection | undefined;
    socket.on("message", (data) => {
      let message: WorkerMessage;
      try {
        message = parseWorkerMessage(data.toString());
      } catch (error) {
        errors.push(`${(error as Error).message}: ${data.toString().slice(0, 200)}`);
        return;
      }
      if (message.type === "hello" && !connection) {
        const index = count++;
        const workerId = `w-${index}`;
        const reject =
          options.reject ??
          (options.rejectAfter !== undefined && index >= options.rejectAfter
            ? { code: "token_revoked", message: "the token was revoked" }
            : undefined);
        socket.send(
          JSON.stringify(
            reject
              ? { type: "rejected", ...reject }
              : { type: "welcome", worker_id: workerId, reputation: 100, bond_credits: message.bond_credits },
          ),
        );
        connection = makeConnection(socket, message, workerId, messages, frames, listeners, closed);
        connections.push(connection);
        for (const waiter of waiters.splice(0)) waiter();
        return;
      }
      frames.push(message);
      if (message.type === "chunks") messages.push(...message.chunks);
      else messages.push(message);
      for (const listener of listeners) listener();
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    connections,
    errors,
    async connection(index) {
      const deadline = Date.now() + 60_000;
      while (!connections[index]) {
        if (Date.now() > deadline) throw new Error(`no connection #${index}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
      return connections[index] as FakeConnection;
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function makeConnection(
  socket: WebSocket,
  hello: WorkerHello,
  workerId: string,
  messages: WorkerMessage[],
  frames: WorkerMessage[],
  listeners: Set<() => void>,
  closed: Promise<{ code: number }>,
): FakeConnection {
  const waitFor = (predicate: (message: WorkerMessage) => boolean, timeoutMs = 20_000) =>
    new Promise<WorkerMessage>((resolve, reject) => {
      const check = () => {
        const found = messages.find(predicate);
        if (found) {
          listeners.delete(check);
          clearTimeout(timer);
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(
          new Error(
            `timed out waiting for a worker message (have: ${messages.map((m) => m.type).join(",")})`,
          ),
        );
      }, timeoutMs);
      listeners.add(check);
      check();
    });
  const outcome = async (jobId: string, timeoutMs?: number): Promise<JobOutcome> => {
    const terminal = await waitFor(
      (m) => (m.type === "result" || m.type === "job_error") && m.job_id === jobId,
      timeoutMs,
    );
    const mine = messages.filter((m) => "job_id" in m && m.job_id === jobId);
    return {
      chunks: mine.filter((m): m is Extract<WorkerMessage, { type: "chunk" }> => m.type === "chunk"),
      sealedChunks: mine.filter(
        (m): m is Extract<WorkerMessage, { type: "sealed_chunk" }> => m.type === "sealed_chunk",
      ),
      ...(terminal.type === "result" ? { result: terminal } : {}),
      ...(terminal.type === "job_error" ? { error: terminal } : {}),
    };
  };
  const connection: FakeConnection = {
    hello,
    workerId,
    messages,
    frames,
    socket,
    closed,
    send(message) {
      socket.send(typeof message === "string" ? message : JSON.stringify(message));
    },
    job(job, timeoutMs) {
      connection.send({
        type: "job",
        tier: hello.tier,
        model: hello.model,
        seed: 7,
        stream: false,
        max_tokens: 24,
        ...job,
      });
      return outcome(job.job_id, timeoutMs);
    },
    outcome,
    waitFor: waitFor as FakeConnection["waitFor"],
  };
  return connection;
}
