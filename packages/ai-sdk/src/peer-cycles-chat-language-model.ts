import {
  APICallError,
  type LanguageModelV4,
  type LanguageModelV4CallOptions,
  type LanguageModelV4GenerateResult,
  type LanguageModelV4StreamPart,
  type LanguageModelV4StreamResult,
} from "@ai-sdk/provider";
import { PeerCyclesError } from "@peercycles/client";

/**
 * The `PeerCyclesError` an AI SDK error wraps, if any. The AI SDK wraps what a stream's body throws
 * in `APICallError("Failed to process successful response")`; a refused check is handed on as the
 * client's own error instead, so callers can branch on its `code`. A retryable `APICallError`
 * (a network failure while fetching the attestation) stays, so the AI SDK retries it.
 */
export function unwrapPeerCyclesError(error: unknown): unknown {
  if (PeerCyclesError.isInstance(error)) return error;
  if (APICallError.isInstance(error) && !error.isRetryable && PeerCyclesError.isInstance(error.cause)) {
    return error.cause;
  }
  return error;
}

function unwrapPart(part: LanguageModelV4StreamPart): LanguageModelV4StreamPart {
  return part.type === "error" ? { ...part, error: unwrapPeerCyclesError(part.error) } : part;
}

/** The stream with `error` parts, and the error that ends it, unwrapped. */
function unwrapStream(
  stream: ReadableStream<LanguageModelV4StreamPart>,
): ReadableStream<LanguageModelV4StreamPart> {
  const reader = stream.getReader();
  return new ReadableStream<LanguageModelV4StreamPart>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(unwrapPart(value));
      } catch (error) {
        controller.error(unwrapPeerCyclesError(error));
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/**
 * A chat model of a Peer Cycles provider: the openai-compatible chat model, with a refused check
 * surfacing as the client's `PeerCyclesError` (from `doGenerate`, `doStream`, and a stream's
 * `error` parts) rather than wrapped in an `APICallError`.
 *
 * @example
 * ```ts
 * const model = new PeerCyclesChatLanguageModel(createOpenAICompatible({ name, baseURL, fetch }).chatModel("peer-tiny"));
 * ```
 */
export class PeerCyclesChatLanguageModel implements LanguageModelV4 {
  readonly specificationVersion = "v4";
  readonly #model: LanguageModelV4;

  constructor(model: LanguageModelV4) {
    this.#model = model;
  }

  get provider(): string {
    return this.#model.provider;
  }

  get modelId(): string {
    return this.#model.modelId;
  }

  get supportedUrls(): LanguageModelV4["supportedUrls"] {
    return this.#model.supportedUrls;
  }

  async doGenerate(options: LanguageModelV4CallOptions): Promise<LanguageModelV4GenerateResult> {
    try {
      return await this.#model.doGenerate(options);
    } catch (error) {
      throw unwrapPeerCyclesError(error);
    }
  }

  async doStream(options: LanguageModelV4CallOptions): Promise<LanguageModelV4StreamResult> {
    let result: LanguageModelV4StreamResult;
    try {
      result = await this.#model.doStream(options);
    } catch (error) {
      throw unwrapPeerCyclesError(error);
    }
    return { ...result, stream: unwrapStream(result.stream) };
  }
}
