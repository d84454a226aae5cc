import { z } from "zod";
import { DEFAULT_TIER, TIERS, type Tier } from "./tiers.js";

const textPart = z.looseObject({ type: z.literal("text"), text: z.string() });

export const chatMessageSchema = z.looseObject({
  role: z.enum(["system", "user", "assistant", "tool", "developer"]),
  content: z.union([z.string(), z.array(textPart), z.null()]).optional(),
  name: z.string().optional(),
  tool_calls: z
    .array(
      z.looseObject({
        id: z.string(),
        type: z.literal("function"),
        function: z.looseObject({ name: z.string(), arguments: z.string() }),
      }),
    )
    .optional(),
  tool_call_id: z.string().optional(),
});

export const toolDefinitionSchema = z.looseObject({
  type: z.literal("function"),
  function: z.looseObject({
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "tool names are 1-64 of A-Z a-z 0-9 _ -"),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullable().optional(),
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
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullable().optional(),
    }),
  }),
]);

/**
 * The OpenAI Chat Completions request body as the node accepts it, plus `peer_tier`. Unknown
 * members (`frequency_penalty`, `parallel_tool_calls`, …) are accepted and ignored, as the stock
 * clients send them; members we act on are checked strictly.
 */
export const chatCompletionRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(chatMessageSchema).min(1),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  max_tokens: z.number().int().min(1).max(65536).nullable().optional(),
  max_completion_tokens: z.number().int().min(1).max(65536).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable().optional(),
  stop: z
    .union([z.string(), z.array(z.string()).max(4)])
    .nullable()
    .optional(),
  n: z.literal(1).nullable().optional(),
  tools: z.array(toolDefinitionSchema).optional(),
  tool_choice: toolChoiceSchema.optional(),
  response_format: responseFormatSchema.optional(),
  user: z.string().optional(),
  peer_tier: z.enum(TIERS).optional(),
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
      message: `${path || "body"}: ${issue?.message ?? "invalid"}`,
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
