import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ModelError } from "./errors.js";
import { loadPeerTiny } from "./peer-tiny.js";
import type {
  ChatMessage,
  GenerateEvent,
  GenerateRequest,
  InferenceBackend,
  ToolDefinition,
} from "./types.js";

let model: InferenceBackend;
beforeAll(async () => {
  model = await loadPeerTiny();
});

async function collect(request: GenerateRequest): Promise<GenerateEvent[]> {
  const events: GenerateEvent[] = [];
  for await (const event of model.generate(request)) events.push(event);
  return events;
}

const tools: ToolDefinition[] = [
  {
    type: "function",
    function: {
      name: "get_weather",
      description: "Get the current weather for a city",
      parameters: {
        type: "object",
        properties: {
          city: { type: "string" },
          unit: { type: "string", enum: ["fahrenheit", "celsius"] },
          days: { type: "integer", minimum: 1, maximum: 7 },
        },
        required: ["city", "unit"],
        additionalProperties: false,
      },
    },
  },
  {
    type: "function",
    function: {
      name: "searchDocuments",
      description: "Full-text search over the project documentation",
      parameters: {
        type: "object",
        properties: { query: { type: "string" }, limit: { type: "integer", minimum: 1, maximum: 20 } },
        required: ["query"],
      },
    },
  },
  {
    type: "function",
    function: {
      name: "book_flight",
      description: "Book a flight",
      parameters: {
        type: "object",
        properties: {
          origin: { type: "string" },
          destination: { type: "string" },
          date: { type: "string", format: "date" },
          passengers: {
            type: "array",
            minItems: 1,
            items: {
              type: "object",
              properties: { name: { type: "string" }, age: { type: "integer", minimum: 0 } },
              required: ["name"],
            },
          },
          refundable: { type: "boolean" },
        },
        required: ["origin", "destination", "date", "passengers", "refundable"],
      },
    },
  },
];

function toolCalls(events: readonly GenerateEvent[]): Extract<GenerateEvent, { type: "tool_call" }>[] {
  return events.filter(
    (event): event is Extract<GenerateEvent, { type: "tool_call" }> => event.type === "tool_call",
  );
}

const user = (content: string): ChatMessage[] => [{ role: "user", content }];

function argumentsOf(events: readonly GenerateEvent[], name: string): unknown {
  const [call] = toolCalls(events);
  expect(call?.name).toBe(name);
  const args: unknown = JSON.parse(call?.arguments ?? "null");
  const schema = tools.find((tool) => tool.function.name === name)?.function.parameters ?? {};
  expect(z.fromJSONSchema(schema).safeParse(args).success).toBe(true);
  return args;
}

describe("peer-tiny tool calls", () => {
  it("auto: calls the tool whose name and description best match the user's words", async () => {
    const events = await collect({
      messages: user("What's the weather in New York for 3 days, in celsius?"),
      seed: 1,
      tools,
    });
    expect(argumentsOf(events, "get_weather")).toEqual({ city: "New York", unit: "celsius", days: 3 });
    const [call] = toolCalls(events);
    expect(call?.index).toBe(0);
    expect(call?.id).toMatch(/^call_[0-9a-f]{24}$/);
    expect(events.at(-1)).toMatchObject({ type: "finish", finishReason: "tool_calls" });
    expect(events.filter((event) => event.type === "text")).toEqual([]);
  });

  it("auto: splits camelCase names and uses quoted text for query fields", async () => {
    const events = await collect({
      messages: user('Search the documentation for "sealed stream"'),
      seed: 1,
      tools,
    });
    expect(argumentsOf(events, "searchDocuments")).toMatchObject({ query: "sealed stream" });
  });

  it("auto: synthesises nested objects, arrays, dates and booleans", async () => {
    const events = await collect({
      messages: user("Please book a flight from Lisbon to Oslo on 2025-06-01 for Maria, no refund needed"),
      seed: 3,
      tools,
    });
    expect(argumentsOf(events, "book_flight")).toEqual({
      origin: "Lisbon",
      destination: "Oslo",
      date: "2025-06-01",
      passengers: [{ name: "Maria", age: 2025 }],
      refundable: false,
    });
  });

  it("auto: answers in text when no tool word matches", async () => {
    const events = await collect({ messages: user("Hello there"), seed: 1, tools });
    expect(toolCalls(events)).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: "finish" });
    expect(events.some((event) => event.type === "text")).toBe(true);
  });

  it("none: never calls a tool", async () => {
    const events = await collect({ messages: user("weather in Paris"), seed: 1, tools, toolChoice: "none" });
    expect(toolCalls(events)).toEqual([]);
  });

  it("required: calls the best tool, the first one when nothing matches", async () => {
    const events = await collect({ messages: user("Hello there"), seed: 1, tools, toolChoice: "required" });
    argumentsOf(events, "get_weather");
    const matched = await collect({ messages: user("book it"), seed: 1, tools, toolChoice: "required" });
    argumentsOf(matched, "book_flight");
  });

  it("a named tool choice forces that tool", async () => {
    const events = await collect({
      messages: user("weather in Paris"),
      seed: 1,
      tools,
      toolChoice: { type: "function", function: { name: "searchDocuments" } },
    });
    argumentsOf(events, "searchDocuments");
  });

  it("rejects a named tool that is not given", async () => {
    const error = await collect({
      messages: user("hi"),
      seed: 1,
      tools,
      toolChoice: { type: "function", function: { name: "nope" } },
    }).catch((caught: unknown) => caught);
    expect(ModelError.isInstance(error) && error.code).toBe("model_request_invalid");
  });

  it("answers a tool result in text that uses the result", async () => {
    const messages: ChatMessage[] = [
      { role: "user", content: "What's the weather in Paris?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: "call_1",
            type: "function",
            function: { name: "get_weather", arguments: '{"city":"Paris"}' },
          },
        ],
      },
      { role: "tool", tool_call_id: "call_1", content: '{"temperature": 21, "conditions": "sunny"}' },
    ];
    const events = await collect({ messages, seed: 1, tools });
    expect(toolCalls(events)).toEqual([]);
    const text = events.map((event) => (event.type === "text" ? event.text : "")).join("");
    expect(text).toBe("According to get_weather, temperature is 21, conditions is sunny.");
    expect(events.at(-1)).toMatchObject({ type: "finish", finishReason: "stop" });
  });

  it("answers plain-text results of several tools in order", async () => {
    const messages: ChatMessage[] = [
      { role: "user", content: "weather and docs" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "a", type: "function", function: { name: "get_weather", arguments: "{}" } },
          { id: "b", type: "function", function: { name: "searchDocuments", arguments: "{}" } },
        ],
      },
      { role: "tool", tool_call_id: "a", content: "Rain all day." },
      { role: "tool", tool_call_id: "b", content: "Nothing found" },
    ];
    const text = (await collect({ messages, seed: 1, tools }))
      .map((event) => (event.type === "text" ? event.text : ""))
      .join("");
    expect(text).toBe(
      "According to get_weather, the result is Rain all day. According to searchDocuments, the result is Nothing found.",
    );
  });

  it("is deterministic, ids included; seeds change ids and seeded numbers only", async () => {
    const request: GenerateRequest = { messages: user("weather in Rome"), seed: 5, tools };
    expect(await collect(request)).toEqual(await collect(request));
    const [one] = toolCalls(await collect(request));
    const [two] = toolCalls(await collect({ ...request, seed: 6 }));
    expect(one?.id).not.toBe(two?.id);
    expect(JSON.parse(one?.arguments ?? "{}").city).toBe("Rome");
  });
});
