import { describe, expect, it } from "vitest";
import { workerEndpointUrl } from "./connection.js";
import { cheatedOutput, JobFailure, parseJobBody } from "./generation.js";
import { ChatCompletionChunks, chatCompletionObject } from "./openai-render.js";

describe("parseJobBody", () => {
  const settings = { seed: 9, maxTokens: 33 };

  it("maps an OpenAI body onto the backend request; the job's seed and cap win", () => {
    const parsed = parseJobBody(
      {
        model: "peer-tiny",
        messages: [{ role: "user", content: "hi" }],
        temperature: 0,
        top_p: 0.5,
        stop: ["\n"],
        seed: 1,
        max_tokens: 5,
        stream_options: { include_usage: true },
        tool_choice: "none",
        response_format: { type: "json_object" },
        frequency_penalty: 0.2,
      },
      settings,
    );
    expect(parsed.request).toEqual({
      messages: [{ role: "user", content: "hi" }],
      seed: 9,
      maxTokens: 33,
      temperature: 0,
      topP: 0.5,
      stop: ["\n"],
      toolChoice: "none",
      responseFormat: { type: "json_object" },
    });
    expect(parsed).toMatchObject({ includeUsage: true, bodySeed: 1, bodyMaxTokens: 5 });
    const nulls = parseJobBody(
      {
        model: "m",
        messages: [{ role: "user", content: "x" }],
        temperature: null,
        seed: null,
        max_completion_tokens: 7,
      },
      settings,
    );
    expect(nulls.request.temperature).toBeUndefined();
    expect(nulls).toMatchObject({ bodySeed: undefined, bodyMaxTokens: 7, includeUsage: false });
  });

  it("fails with request_invalid naming the path; confidential messages name only the path", () => {
    const bad = { model: "m", messages: [{ role: "wizard", content: "SECRET" }] };
    const plain = (() => {
      try {
        parseJobBody(bad, settings);
      } catch (error) {
        return error;
      }
    })() as JobFailure;
    expect(plain).toBeInstanceOf(JobFailure);
    expect(plain.code).toBe("request_invalid");
    expect(plain.message).toContain("messages.0.role");
    expect(() => parseJobBody(bad, settings, { confidential: true })).toThrow(/at messages\.0\.role\)$/);
    expect(() => parseJobBody("nope", settings)).toThrow(JobFailure);
  });
});

describe("rendering and cheating", () => {
  it("renders chat.completion with null content beside tool calls, and SSE chunks", () => {
    const completion = chatCompletionObject(
      { id: "chatcmpl-1", model: "peer-tiny", created: 5 },
      {
        content: "",
        tool_calls: [{ index: 0, id: "call_1", name: "f", arguments: "{}" }],
        finish_reason: "tool_calls",
      },
      { prompt_tokens: 2, completion_tokens: 3 },
    );
    expect(completion).toMatchObject({
      choices: [{ message: { content: null, tool_calls: [{ id: "call_1", type: "function" }] } }],
      usage: { total_tokens: 5 },
    });
    const chunks = new ChatCompletionChunks({ id: "c", model: "m", created: 1 });
    expect(chunks.done()).toBe("data: [DONE]\n\n");
    expect(JSON.parse(chunks.text("a").slice(6))).toMatchObject({
      object: "chat.completion.chunk",
      choices: [{ delta: { content: "a" }, finish_reason: null }],
    });
    expect(JSON.parse(chunks.usage({ prompt_tokens: 1, completion_tokens: 1 }).slice(6)).choices).toEqual([]);
  });

  it("a cheated output differs by one appended word", () => {
    const honest = { content: "", tool_calls: [], finish_reason: "stop" as const };
    expect(cheatedOutput(honest).output.content).toBe("indeed");
    expect(cheatedOutput({ ...honest, content: "yes" }).output.content).toBe("yes indeed");
  });
});

describe("workerEndpointUrl", () => {
  it("turns the orchestrator URL into the worker WebSocket URL", () => {
    expect(workerEndpointUrl("http://127.0.0.1:8787")).toBe("ws://127.0.0.1:8787/v1/workers/connect");
    expect(workerEndpointUrl("https://node.example/base/?x=1")).toBe(
      "wss://node.example/base/v1/workers/connect",
    );
    expect(workerEndpointUrl("ws://h:1")).toBe("ws://h:1/v1/workers/connect");
    expect(() => workerEndpointUrl("ftp://h")).toThrow(/orchestrator/);
    expect(() => workerEndpointUrl("not a url")).toThrow(/orchestrator/);
  });
});
