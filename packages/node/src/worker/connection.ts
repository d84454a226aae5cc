import {
  type OrchestratorMessage,
  ProtocolError,
  parseOrchestratorMessage,
  WORKER_ENDPOINT_PATH,
  type WorkerHello,
} from "@peercycles/protocol";
import type { Logger } from "pino";
import WebSocket from "ws";
import { optionError, WorkerError } from "./errors.js";

/** `welcome` as the orchestrator sends it. */
export type Welcome = Extract<OrchestratorMessage, { type: "welcome" }>;

/**
 * The worker WebSocket URL of an orchestrator: `http://host:port/base` → `ws://host:port/base` +
 * {@link WORKER_ENDPOINT_PATH} (`https` → `wss`; a `ws(s)` URL is taken as the base as is).
 *
 * @throws WorkerError `worker_options_invalid`
 */
export function workerEndpointUrl(orchestrator: string): string {
  let url: URL;
  try {
    url = new URL(orchestrator);
  } catch (cause) {
    throw new WorkerError("worker_options_invalid", "orchestrator: not a URL", {
      cause,
      details: { argument: "orchestrator" },
    });
  }
  const protocols: Record<string, string> = {
    "http:": "ws:",
    "https:": "wss:",
    "ws:": "ws:",
    "wss:": "wss:",
  };
  const protocol = protocols[url.protocol];
  if (!protocol) throw optionError("orchestrator", "must be an http(s) or ws(s) URL");
  url.protocol = protocol;
  url.pathname = `${url.pathname.replace(/\/+$/, "")}${WORKER_ENDPOINT_PATH}`;
  url.search = "";
  url.hash = "";
  return url.toString();
}

/** Reconnection timing: exponential backoff with jitter. */
export interface ReconnectOptions {
  /** First delay after a dropped connection, in ms. Default 250. */
  readonly initialDelayMs?: number;
  /** Longest delay, in ms. Default 10 000. */
  readonly maxDelayMs?: number;
}

/** What {@link OrchestratorConnection} tells its owner. */
export interface ConnectionCallbacks {
  /** Builds the `hello` for each (re)connection (a confidential worker re-attests here). */
  hello(): Promise<WorkerHello>;
  onWelcome(welcome: Welcome): void;
  /** Every message after `welcome`, or the parse error of a frame that does not parse. */
  onMessage(message: OrchestratorMessage | ProtocolError, raw: string): void;
  /** The connection dropped after a `welcome` (not called on `close()`). */
  onDisconnect(info: { code: number; reason: string }): void;
  /** `rejected` after the first `welcome`: the worker cannot go on. */
  onFatal(error: WorkerError): void;
}

/** Options of {@link OrchestratorConnection}. */
export interface ConnectionOptions {
  readonly url: string;
  readonly logger: Logger;
  readonly random: () => number;
  readonly reconnect?: ReconnectOptions;
  /** How long the first `welcome` may take, in ms. */
  readonly connectTimeoutMs: number;
  /** Ping period; a connection that misses a pong for one period is dropped. Default 15 000 ms. */
  readonly heartbeatMs?: number;
}

/**
 * One logical connection to the orchestrator's worker endpoint: connects, says `hello`, waits for
 * `welcome` or `rejected`, passes messages on, and reconnects with backoff when the socket drops.
 */
export class OrchestratorConnection {
  readonly #options: ConnectionOptions;
  readonly #callbacks: ConnectionCallbacks;
  #socket: WebSocket | undefined;
  #welcomed = false;
  #everWelcomed = false;
  #closed = false;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #first: { resolve: (welcome: Welcome) => void; reject: (error: unknown) => void } | undefined;

  constructor(options: ConnectionOptions, callbacks: ConnectionCallbacks) {
    this.#options = options;
    this.#callbacks = callbacks;
  }

  /** Whether a `welcome` was received on the current socket. */
  get connected(): boolean {
    return this.#welcomed && this.#socket?.readyState === WebSocket.OPEN;
  }

  /**
   * Connects; resolves with the first `welcome`. Connection failures before it are retried until
   * `connectTimeoutMs`.
   * @throws WorkerError `worker_rejected`, `worker_connect_failed`, `worker_closed`
   */
  start(): Promise<Welcome> {
    const first = new Promise<Welcome>((resolve, reject) => {
      this.#first = { resolve, reject };
    });
    const timeout = setTimeout(() => {
      this.#failFirst(
        new WorkerError(
          "worker_connect_failed",
          `no welcome from ${this.#options.url} within ${this.#options.connectTimeoutMs} ms`,
          { details: { url: this.#options.url } },
        ),
      );
    }, this.#options.connectTimeoutMs);
    timeout.unref?.();
    first.then(
      () => clearTimeout(timeout),
      () => clearTimeout(timeout),
    );
    this.#open();
    return first;
  }

  /** Sends one message; false when there is no welcomed connection (the message is dropped). */
  send(message: object): boolean {
    const socket = this.#socket;
    if (!this.#welcomed || socket?.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(message));
    return true;
  }

  /** Closes for good (no reconnection). */
  async close(code = 1000, reason = "worker closing"): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearInterval(this.#heartbeat);
    this.#failFirst(new WorkerError("worker_closed", "the worker was closed before it connected"));
    const socket = this.#socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        socket.terminate();
        resolve();
      }, 2000);
      socket.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      else socket.close(code, reason);
    });
  }

  /** Drops the current socket (as a network failure would); the connection then reconnects. */
  drop(): void {
    this.#socket?.terminate();
  }

  #failFirst(error: unknown): void {
    const first = this.#first;
    if (!first) return;
    this.#first = undefined;
    first.reject(error);
    if (!this.#everWelcomed) {
      this.#closed = true;
      clearTimeout(this.#timer);
      this.#socket?.terminate();
    }
  }

  #open(): void {
    if (this.#closed) return;
    const socket = new WebSocket(this.#options.url, { handshakeTimeout: 10_000 });
    this.#socket = socket;
    this.#welcomed = false;
    let alive = true;
    socket.on("open", () => {
      this.#callbacks.hello().then(
        (hello) => {
          if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(hello));
        },
        (error: unknown) => {
          this.#options.logger.error({ err: error }, "worker: cannot build hello; reconnecting");
          socket.terminate();
        },
      );
      const period = this.#options.heartbeatMs ?? 15_000;
      clearInterval(this.#heartbeat);
      this.#heartbeat = setInterval(() => {
        if (!alive) {
          this.#options.logger.warn("worker: no pong from the orchestrator; dropping the connection");
          socket.terminate();
          return;
        }
        alive = false;
        socket.ping();
      }, period);
      this.#heartbeat.unref?.();
    });
    socket.on("pong", () => {
      alive = true;
    });
    socket.on("message", (data, isBinary) => {
      alive = true;
      if (isBinary) {
        this.#options.logger.warn("worker: ignoring a binary frame");
        return;
      }
      const raw = data.toString();
      let message: OrchestratorMessage | ProtocolError;
      try {
        message = parseOrchestratorMessage(raw);
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        message = error;
      }
      if (!this.#welcomed) {
        this.#beforeWelcome(socket, message);
        return;
      }
      this.#callbacks.onMessage(message, raw);
    });
    socket.on("error", (error) => {
      this.#options.logger.debug({ err: error }, "worker: socket error");
    });
    socket.on("close", (code, reasonBuffer) => {
      clearInterval(this.#heartbeat);
      const wasWelcomed = this.#welcomed;
      this.#welcomed = false;
      if (this.#socket === socket) this.#socket = undefined;
      const reason = reasonBuffer.toString();
      if (wasWelcomed && !this.#closed) this.#callbacks.onDisconnect({ code, reason });
      this.#scheduleReconnect();
    });
  }

  #beforeWelcome(socket: WebSocket, message: OrchestratorMessage | ProtocolError): void {
    if (message instanceof ProtocolError || (message.type !== "welcome" && message.type !== "rejected")) {
      this.#options.logger.warn(
        { detail: message instanceof ProtocolError ? message.message : message.type },
        "worker: unexpected message before welcome; reconnecting",
      );
      socket.terminate();
      return;
    }
    if (message.type === "rejected") {
      const error = new WorkerError(
        "worker_rejected",
        `the orchestrator rejected the worker: ${message.message}`,
        {
          details: { code: message.code, message: message.message },
        },
      );
      this.#closed = true;
      socket.close(1000, "rejected");
      if (this.#first) this.#failFirst(error);
      else this.#callbacks.onFatal(error);
      return;
    }
    this.#welcomed = true;
    this.#everWelcomed = true;
    this.#attempt = 0;
    this.#callbacks.onWelcome(message);
    const first = this.#first;
    this.#first = undefined;
    first?.resolve(message);
  }

  #scheduleReconnect(): void {
    if (this.#closed) return;
    const initial = this.#options.reconnect?.initialDelayMs ?? 250;
    const max = this.#options.reconnect?.maxDelayMs ?? 10_000;
    const base = Math.min(max, initial * 2 ** Math.min(this.#attempt, 30));
    const delay = Math.round(base * (0.5 + this.#options.random() / 2));
    this.#attempt++;
    this.#options.logger.info({ delayMs: delay, attempt: this.#attempt }, "worker: reconnecting");
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#open(), delay);
  }
}
