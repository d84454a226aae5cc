import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * An OpenAI-compatible upstream that streams `tokens` words, one every `delayMs`, so a test can
 * hold a job in flight (cancel, disconnect, drain). `aborted` counts requests the client dropped.
 */
export interface SlowUpstream {
  /** Base URL up to `/v1`. */
  readonly baseURL: string;
  readonly stats: { requests: number; aborted: number; completed: number };
  close(): Promise<void>;
}

export async function startSlowUpstream(
  options: { tokens?: number; delayMs?: number } = {},
): Promise<SlowUpstream> {
  const tokens = options.tokens ?? 20;
  const delayMs = options.delayMs ?? 100;
  const stats = { requests: 0, aborted: 0, completed: 0 };
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", async () => {
      stats.requests++;
      const request = JSON.parse(body) as { model: string };
      res.writeHead(200, { "content-type": "text/event-stream" });
      let gone = false;
      res.on("close", () => {
        if (!res.writableFinished) {
          gone = true;
          stats.aborted++;
        }
      });
      const chunk = (delta: object, finish: string | null) =>
        `data: ${JSON.stringify({
          id: "up-1",
          object: "chat.completion.chunk",
          created: 1,
          model: request.model,
          choices: [{ index: 0, delta, finish_reason: finish }],
        })}\n\n`;
      for (let i = 0; i < tokens && !gone; i++) {
        res.write(chunk({ content: i === 0 ? "word" : " word" }, null));
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
      if (gone) return;
      res.write(chunk({}, "stop"));
      res.write(
        `data: ${JSON.stringify({ id: "up-1", object: "chat.completion.chunk", created: 1, model: request.model, choices: [], usage: { prompt_tokens: 3, completion_tokens: tokens } })}\n\n`,
      );
      res.end("data: [DONE]\n\n");
      stats.completed++;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    stats,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
