import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ModelError } from "./errors.js";
import { createOpenAICompatibleBackend } from "./openai-compatible.js";
import type { GenerateEvent, GenerateRequest, InferenceBackend } from "./types.js";

const fixture = (name: string): string =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

let server: Server;
let baseURL: string;
let handler: Handler;
let received: { headers: IncomingMessage["headers"]; body: unknown; url: string | undefined }[];

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({
        headers: request.headers,
        url: request.url,
        body: JSON.parse(Buffer.concat(chunks).toString("utf8") || "null"),
      });
      handler(request, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  received = [];
});

const sse =
  (body: string): Handler =>
  (_request, response) => {
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    response.end(body);
  };

function backend(extra: Partial<Parameters<typeof createOpenAICompatibleBackend>[0]> = {}): InferenceBackend {
  return createOpenAICompatibleBackend({ baseURL, model: "llama-3.2-1b", ...extra });
}

const request: GenerateRequest = { messages: [{ role: "user", content: "Say hello" }], seed: 3 };

async function collect(
  model: InferenceBackend,
  input: GenerateRequest,
  signal?: AbortSignal,
): Promise<GenerateEvent[]> {
  const events: GenerateEvent[] = [];
  for await (const event of model.generate(input, signal ? { signal } : {})) events.push(event);
  return events;
}

async function failure(promise: Promise<unknown>): Promise<ModelError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!ModelError.isInstance(error)) throw new Error(`expected a ModelError, got ${String(error)}`);
  return error;
}

describe("openai-compatible backend", () => {
  it("streams text from SSE chunks and reports the upstream usage", async () => {
    handler = sse(fixture("text-stream.sse"));
    const model = backend({ apiKey: "sk-test", servedModel: "meta-llama/Llama-3.2-1B-Instruct" });
    expect(model).toMatchObject({ model: "llama-3.2-1b", weightsDigest: "", deterministic: false });
    expect(await collect(model, request)).toEqual([
      { type: "text", text: "Hello" },
      { type: "text", text: ", world" },
      { type: "text", text: "!" },
      { type: "finish", finishReason: "stop", usage: { promptTokens: 12, completionTokens: 4 } },
    ]);
    expect(received[0]?.url).toBe("/v1/chat/completions");
    expect(received[0]?.headers.authorization).toBe("Bearer sk-test");
    expect(received[0]?.body).toEqual({
      model: "meta-llama/Llama-3.2-1B-Instruct",
      messages: request.messages,
      stream: true,
      stream_options: { include_usage: true },
      seed: 3,
    });
  });

  it("keeps its upstream connection alive between requests, and does not follow redirects", async () => {
    const ports: (number | undefined)[] = [];
    handler = (incoming, response) => {
      ports.push(incoming.socket.remotePort);
      sse(fixture("text-stream.sse"))(incoming, response);
    };
    const model = backend();
    await collect(model, request);
    // The socket goes back to the agent once the message has ended (a tick or two later).
    await new Promise((resolve) => setTimeout(resolve, 20));
    await collect(model, request);
    expect(ports).toHaveLength(2);
    expect(ports[1]).toBe(ports[0]);
    expect(received[0]?.headers["content-length"]).toBe(String(JSON.stringify(received[0]?.body).length));
    handler = (_incoming, response) => {
      response.writeHead(307, { location: "/elsewhere" });
      response.end("moved");
    };
    expect((await failure(collect(model, request))).code).toBe("upstream_error");
  });

  it("passes tools, tool_choice, response_format and sampling options through", async () => {
    handler = sse(fixture("text-stream.sse"));
    const tools = [
      {
        type: "function" as const,
        function: {
          name: "get_weather",
          parameters: { type: "object", properties: { city: { type: "string" } } },
        },
      },
    ];
    await collect(backend(), {
      ...request,
      maxTokens: 20,
      temperature: 0.5,
      topP: 0.9,
      stop: ["\n"],
      tools,
      toolChoice: "required",
      responseFormat: {
        type: "json_schema",
        json_schema: { name: "w", schema: { type: "object" }, strict: true },
      },
    });
    expect(received[0]?.body).toMatchObject({
      model: "llama-3.2-1b",
      max_tokens: 20,
      temperature: 0.5,
      top_p: 0.9,
      stop: ["\n"],
      tools,
      tool_choice: "required",
      response_format: {
        type: "json_schema",
        json_schema: { name: "w", schema: { type: "object" }, strict: true },
      },
    });
    expect(received[0]?.headers.authorization).toBeUndefined();
  });

  it("assembles streamed tool-call fragments into tool_call events", async () => {
    handler = sse(fixture("tool-call-stream.sse"));
    const events = await collect(backend(), request);
    expect(events).toEqual([
      {
        type: "tool_call",
        index: 0,
        id: "call_weather_1",
        name: "get_weather",
        arguments: '{"city": "Paris"}',
      },
      { type: "tool_call", index: 1, id: "call_time_2", name: "get_time", arguments: '{"zone":"CET"}' },
      { type: "finish", finishReason: "tool_calls", usage: { promptTokens: 2, completionTokens: 20 } },
    ]);
  });

  it("accepts a non-streamed JSON completion", async () => {
    handler = (_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(fixture("completion.json"));
    };
    expect(await collect(backend(), request)).toEqual([
      { type: "text", text: '{"city":"Oslo"}' },
      { type: "finish", finishReason: "length", usage: { promptTokens: 20, completionTokens: 6 } },
    ]);
  });

  it.each([
    [500, "upstream_error", false],
    [401, "upstream_error", false],
    [400, "model_request_invalid", false],
    [503, "upstream_unavailable", true],
    [429, "upstream_unavailable", true],
  ] as const)("maps HTTP %i to %s", async (status, code, retryable) => {
    handler = (_request, response) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: { message: "boom", type: "server_error" } }));
    };
    const error = await failure(collect(backend(), request));
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(retryable);
    expect(error.details).toMatchObject({ status, upstreamMessage: "boom" });
    expect(error.message).toBe(`upstream HTTP ${status}: boom`);
  });

  it("rejects malformed SSE data as upstream_error, after the events before it", async () => {
    handler = sse(fixture("malformed.sse"));
    const seen: GenerateEvent[] = [];
    const error = await failure(
      (async () => {
        for await (const event of backend().generate(request)) seen.push(event);
      })(),
    );
    expect(error.code).toBe("upstream_error");
    expect(seen).toEqual([{ type: "text", text: "Hi" }]);
  });

  it("turns an error object in the stream into upstream_error", async () => {
    handler = sse(fixture("error-in-stream.sse"));
    const error = await failure(collect(backend(), request));
    expect(error.code).toBe("upstream_error");
    expect(error.message).toContain("context size");
  });

  it("reports a connection dropped mid-stream as upstream_unavailable", async () => {
    handler = (_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write(fixture("text-stream.sse").split("\n\n").slice(0, 2).join("\n\n").concat("\n\n"));
      setTimeout(() => response.socket?.destroy(), 20);
    };
    const error = await failure(collect(backend(), request));
    expect(error.code).toBe("upstream_unavailable");
    expect(error.retryable).toBe(true);
  });

  it("reports a stream that ends before finishing as upstream_unavailable", async () => {
    handler = sse(fixture("text-stream.sse").split("\n\n").slice(0, 2).join("\n\n").concat("\n\n"));
    expect((await failure(collect(backend(), request))).code).toBe("upstream_unavailable");
  });

  it("reports an unreachable upstream as upstream_unavailable", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const model = createOpenAICompatibleBackend({ baseURL: `http://127.0.0.1:${port}/v1`, model: "m" });
    expect((await failure(collect(model, request))).code).toBe("upstream_unavailable");
  });

  it("throws generation_aborted when the signal fires mid-stream", async () => {
    handler = (_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write(fixture("text-stream.sse").split("\n\n").slice(0, 2).join("\n\n").concat("\n\n"));
    };
    const controller = new AbortController();
    const error = await failure(
      (async () => {
        for await (const event of backend().generate(request, { signal: controller.signal })) {
          if (event.type === "text") controller.abort();
        }
      })(),
    );
    expect(error.code).toBe("generation_aborted");
  });

  it("uses the injected fetch and validates its options and requests", async () => {
    const calls: string[] = [];
    const fakeFetch: typeof fetch = async (input) => {
      calls.push(String(input));
      return new Response(fixture("text-stream.sse"), { headers: { "content-type": "text/event-stream" } });
    };
    const model = createOpenAICompatibleBackend({
      baseURL: "https://upstream.test/v1",
      model: "m",
      fetch: fakeFetch,
    });
    expect((await collect(model, request)).at(-1)).toMatchObject({ finishReason: "stop" });
    expect(calls).toEqual(["https://upstream.test/v1/chat/completions"]);
    expect(() => createOpenAICompatibleBackend({ baseURL: "ftp://x", model: "m" })).toThrowError(
      expect.objectContaining({ code: "model_request_invalid" }),
    );
    expect((await failure(collect(model, { ...request, messages: [] }))).code).toBe("model_request_invalid");
  });
});
