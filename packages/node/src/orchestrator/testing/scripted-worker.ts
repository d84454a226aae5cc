import { ed25519 } from "@noble/curves/ed25519.js";
import { encodeReceiptBody, receiptSigningMessage } from "@peercycles/attest/bundle";
import {
  fromHex,
  type JobMessage,
  type OrchestratorMessage,
  outputHash,
  parseOrchestratorMessage,
  sha256Bytes,
  toBase64Url,
  type WireCompletionOutput,
  WORKER_ENDPOINT_PATH,
  WORKER_PROTOCOL_VERSION,
  type WorkerHello,
} from "@peercycles/protocol";
import { WebSocket } from "ws";

/** What a scripted worker does with one job. */
export type JobScript =
  | {
      kind: "answer";
      output?: WireCompletionOutput;
      stream?: string[];
      /** Send the streamed pieces as one `chunks` frame instead of one `chunk` frame each. */
      batch?: boolean;
      delayMs?: number;
    }
  | { kind: "error"; code?: "backend_failed" | "request_invalid" }
  | { kind: "garbage" }
  /** A `chunks` frame whose second chunk does not parse. */
  | { kind: "garbage-chunks" }
  | { kind: "bad-receipt" }
  | { kind: "disconnect-mid-stream" }
  | { kind: "hang" };

/**
 * A worker whose behaviour a test scripts, speaking the real protocol over a real WebSocket and
 * signing real receipts: the orchestrator's failure paths need workers that misbehave on cue.
 */
export class ScriptedWorker {
  readonly signingSecret = ed25519.utils.randomSecretKey();
  readonly jobs: JobMessage[] = [];
  readonly cancels: string[] = [];
  workerId = "";
  socket!: WebSocket;
  script: (job: JobMessage) => JobScript = () => ({ kind: "answer" });
  /** For role validator: the output hash to claim (default: the honest one). */
  verdict: (body: string, seed: number) => string | undefined = () => undefined;

  constructor(
    readonly url: string,
    readonly hello: Omit<WorkerHello, "type" | "protocol" | "signing_key">,
  ) {}

  async connect(): Promise<this> {
    this.socket = new WebSocket(`${this.url.replace(/^http/, "ws")}${WORKER_ENDPOINT_PATH}`);
    await new Promise<void>((resolve, reject) => {
      this.socket.once("open", () => resolve());
      this.socket.once("error", reject);
    });
    const welcome = new Promise<void>((resolve, reject) => {
      this.socket.on("message", (data) => {
        const message = parseOrchestratorMessage(data.toString());
        if (message.type === "welcome") {
          this.workerId = message.worker_id;
          resolve();
        } else if (message.type === "rejected") {
          reject(new Error(`${message.code}: ${message.message}`));
        } else {
          void this.#handle(message);
        }
      });
      this.socket.once("close", () => reject(new Error("closed before welcome")));
    });
    this.socket.send(
      JSON.stringify({
        type: "hello",
        protocol: WORKER_PROTOCOL_VERSION,
        signing_key: toBase64Url(ed25519.getPublicKey(this.signingSecret)),
        ...this.hello,
      }),
    );
    await welcome;
    return this;
  }

  close(): void {
    this.socket.close();
  }

  #send(message: unknown): void {
    this.socket.send(JSON.stringify(message));
  }

  receipt(
    job: { body: string; seed: number; model: string },
    output: WireCompletionOutput,
    usage: { prompt_tokens: number; completion_tokens: number },
  ) {
    const body = encodeReceiptBody({
      requestHash: sha256Bytes(job.body),
      responseHash: fromHex(wireHash(output)),
      model: job.model,
      seed: job.seed,
      usage: { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens },
      worker: this.workerId,
      time: Math.floor(Date.now() / 1000),
    });
    return {
      body: toBase64Url(body),
      signature: toBase64Url(ed25519.sign(receiptSigningMessage(body), this.signingSecret)),
    };
  }

  async #handle(message: OrchestratorMessage): Promise<void> {
    if (message.type === "cancel") {
      this.cancels.push(message.job_id);
      return;
    }
    if (message.type === "reexecute") {
      const claimed = this.verdict(message.body, message.seed);
      this.#send({ type: "verdict", job_id: message.job_id, output_hash: claimed ?? wireHash(honest()) });
      return;
    }
    if (message.type !== "job") return;
    this.jobs.push(message);
    const script = this.script(message);
    const usage = { prompt_tokens: 5, completion_tokens: 3 };
    const job = { body: message.body ?? "", seed: message.seed, model: message.model };
    switch (script.kind) {
      case "answer": {
        const output = script.output ?? honest();
        if (script.delayMs) await new Promise((r) => setTimeout(r, script.delayMs));
        if (message.stream) {
          const chunks = (script.stream ?? [output.content]).map((piece) => ({
            type: "chunk",
            job_id: message.job_id,
            content: piece,
          }));
          if (script.batch) this.#send({ type: "chunks", chunks });
          else for (const chunk of chunks) this.#send(chunk);
        }
        this.#send({
          type: "result",
          job_id: message.job_id,
          output,
          usage,
          receipt: this.receipt(job, output, usage),
        });
        return;
      }
      case "error":
        this.#send({
          type: "job_error",
          job_id: message.job_id,
          code: script.code ?? "backend_failed",
          message: "scripted failure",
        });
        return;
      case "garbage":
        this.#send({ type: "result", job_id: message.job_id, output: 42 });
        return;
      case "garbage-chunks":
        this.#send({
          type: "chunks",
          chunks: [
            { type: "chunk", job_id: message.job_id, content: "Hello" },
            { type: "chunk", job_id: message.job_id, content: 42 },
          ],
        });
        return;
      case "bad-receipt": {
        const output = honest();
        const other = { ...output, content: "something else" };
        this.#send({
          type: "result",
          job_id: message.job_id,
          output,
          usage,
          receipt: this.receipt(job, other, usage),
        });
        return;
      }
      case "disconnect-mid-stream":
        this.#send({ type: "chunk", job_id: message.job_id, content: "Hello" });
        setTimeout(() => this.socket.terminate(), 20);
        return;
      case "hang":
        return;
    }
  }
}

/** The answer an honest scripted worker gives. */
export function honest(): WireCompletionOutput {
  return { content: "Hello from a scripted worker.", tool_calls: [], finish_reason: "stop" };
}

function wireHash(output: WireCompletionOutput): string {
  return outputHash({
    content: output.content,
    toolCalls: output.tool_calls,
    finishReason: output.finish_reason,
  });
}
