import * as z from "zod/mini";
import { describeIssue } from "./issues.js";
import { DEFAULT_TIER, TIERS, type Tier } from "./tiers.js";

const textPart = z.looseObject({ type: z.literal("text"), text: z.string() });

export const chatMessageSchema = z.looseObject({
  role: z.enum(["system", "user", "assistant", "tool", "developer"]),
  content: z.optional(z.union([z.string(), z.array(textPart), z.null()])),
  name: z.optional(z.string()),
  tool_calls: z.optional(
    z.array(
      z.looseObject({
        id: z.string(),
        type: z.literal("function"),
        function: z.looseObject({ name: z.string(), arguments: z.string() }),
      }),
    ),
  ),
  tool_call_id: z.optional(z.string()),
});

export const toolDefinitionSchema = z.looseObject({
  type: z.literal("function"),
  function: z.looseObject({
    name: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, "tool names are 1-64 of A-Z a-z 0-9 _ -")),
    description: z.optional(z.string()),
    parameters: z.optional(z.record(z.string(), z.unknown())),
    strict: z.optional(z.nullable(z.boolean())),
  }),
});

export const toolChoiceSchema = z.union([
  z.enum(["auto", "none", "required"]),
  z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: z.string() }) }),
]);

export const responseFormatSchema = z.union([
  z.looseObject({ type: z.literal("text") }),
  z.looseObject({ type: z.literal("json_object") }),
  z.looseObject({
    type: z.literal("json_schema"),
    json_schema: z.looseObject({
      name: z.string(),
      schema: z.optional(z.record(z.string(), z.unknown())),
      strict: z.optional(z.nullable(z.boolean())),
    }),
  }),
]);

/**
 * The OpenAI Chat Completions request body as the node accepts it, plus `peer_tier`. Unknown
 * members (`frequency_penalty`, `parallel_tool_calls`, …) are accepted and ignored, as the stock
 * clients send them; members we act on are checked strictly.
 */
export const chatCompletionRequestSchema = z.looseObject({
  model: z.string().check(z.minLength(1)),
  messages: z.array(chatMessageSchema).check(z.minLength(1)),
  stream: z.optional(z.nullable(z.boolean())),
  stream_options: z.optional(z.nullable(z.looseObject({ include_usage: z.optional(z.boolean()) }))),
  max_tokens: z.optional(z.nullable(z.int().check(z.gte(1), z.lte(65536)))),
  max_completion_tokens: z.optional(z.nullable(z.int().check(z.gte(1), z.lte(65536)))),
  temperature: z.optional(z.nullable(z.number().check(z.gte(0), z.lte(2)))),
  top_p: z.optional(z.nullable(z.number().check(z.gt(0), z.lte(1)))),
  seed: z.optional(z.nullable(z.int().check(z.gte(0), z.lte(Number.MAX_SAFE_INTEGER)))),
  stop: z.optional(z.nullable(z.union([z.string(), z.array(z.string()).check(z.maxLength(4))]))),
  n: z.optional(z.nullable(z.literal(1))),
  tools: z.optional(z.array(toolDefinitionSchema)),
  tool_choice: z.optional(toolChoiceSchema),
  response_format: z.optional(responseFormatSchema),
  user: z.optional(z.string()),
  peer_tier: z.optional(z.enum(TIERS)),
});

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;
export type ChatMessage = z.infer<typeof chatMessageSchema>;

/** The result of {@link parseChatCompletionRequest}. */
export type ParsedChatRequest =
  | { ok: true; request: ChatCompletionRequest; tier: Tier; maxTokens: number }
  | { ok: false; code: "invalid_request" | "tier_unknown"; message: string; param: string | null };

/** Most completion tokens when a request names none. */
export const DEFAULT_MAX_COMPLETION_TOKENS = 256;

/** Parses an already JSON-decoded chat completion body; never throws. */
export function parseChatCompletionRequest(body: unknown): ParsedChatRequest {
  if (
    typeof body === "object" &&
    body !== null &&
    "peer_tier" in body &&
    !(TIERS as readonly unknown[]).includes((body as { peer_tier: unknown }).peer_tier)
  ) {
    return {
      ok: false,
      code: "tier_unknown",
      message: `peer_tier must be one of ${TIERS.join(", ")}`,
      param: "peer_tier",
    };
  }
  const result = chatCompletionRequestSchema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue ? issue.path.join(".") : "";
    return {
      ok: false,
      code: "invalid_request",
      message: `${path || "body"}: ${issue ? describeIssue(issue) : "invalid"}`,
      param: path || null,
    };
  }
  const request = result.data;
  return {
    ok: true,
    request,
    tier: request.peer_tier ?? DEFAULT_TIER,
    maxTokens: request.max_completion_tokens ?? request.max_tokens ?? DEFAULT_MAX_COMPLETION_TOKENS,
  };
}
