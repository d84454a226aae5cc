import type { ChatModelStreamEvent } from "@langchain/core/language_models/event";
import { AIMessageChunk, type BaseMessage } from "@langchain/core/messages";
import { ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";
import { ChatOpenAICompletions } from "@langchain/openai";

/** Where a streamed call leaves the `peer` object of its final chunk. */
const PEER_SINK = Symbol.for("peercycles.langchain.peer-sink");

interface PeerSink {
  peer?: Record<string, unknown>;
}

type CompletionsCallOptions = ChatOpenAICompletions["ParsedCallOptions"];
type RunManager = Parameters<ChatOpenAICompletions["_streamResponseChunks"]>[2];
type Completions = Parameters<ChatOpenAICompletions["_convertCompletionsMessageToBaseMessage"]>[0];
type RawCompletion = Parameters<ChatOpenAICompletions["_convertCompletionsMessageToBaseMessage"]>[1];

/** The `peer` object (with `verification`) of a completion or chunk, if it carries one. */
function peerOf(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const peer = (value as { peer?: unknown }).peer;
  return typeof peer === "object" && peer !== null ? (peer as Record<string, unknown>) : undefined;
}

/** Passes a stream of completion chunks on unchanged, leaving the `peer` object in `sink`. */
async function* recordingPeer<T>(source: AsyncIterable<T>, sink: PeerSink): AsyncGenerator<T> {
  for await (const chunk of source) {
    const peer = peerOf(chunk);
    if (peer) sink.peer = peer;
    yield chunk;
  }
}

/**
 * `ChatOpenAICompletions` that keeps the `peer` object the node and `peerFetch` add to each answer:
 * in `response_metadata.peer` of a message, and of the final chunk of a stream (the stock class
 * drops the stream's `peer` chunk, whose `choices` are empty).
 *
 * @internal
 */
export class PeerCyclesCompletions extends ChatOpenAICompletions {
  override _convertCompletionsMessageToBaseMessage(
    message: Completions,
    rawResponse: RawCompletion,
  ): BaseMessage {
    const converted = super._convertCompletionsMessageToBaseMessage(message, rawResponse);
    const peer = peerOf(rawResponse);
    if (peer) converted.response_metadata = { ...converted.response_metadata, peer };
    return converted;
  }

  /**
   * With `streaming: true`, the stock class estimates usage with tiktoken (downloading its encoding
   * at run time); the node reports the usage its worker signed, so that is what `llmOutput` says.
   */
  override async _generate(
    messages: BaseMessage[],
    options: CompletionsCallOptions,
    runManager?: RunManager,
  ): Promise<ChatResult> {
    if (!this.invocationParams(options).stream) return super._generate(messages, options, runManager);
    const byIndex = new Map<number, ChatGenerationChunk>();
    for await (const chunk of this._streamResponseChunks(messages, options, runManager)) {
      chunk.message.response_metadata = { ...chunk.generationInfo, ...chunk.message.response_metadata };
      const index = (chunk.generationInfo?.completion as number | undefined) ?? 0;
      const previous = byIndex.get(index);
      byIndex.set(index, previous ? previous.concat(chunk) : chunk);
    }
    const generations = [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, chunk]) => chunk);
    const usage = (generations[0]?.message as AIMessageChunk | undefined)?.usage_metadata;
    return {
      generations,
      llmOutput: usage
        ? {
            tokenUsage: {
              promptTokens: usage.input_tokens,
              completionTokens: usage.output_tokens,
              totalTokens: usage.total_tokens,
            },
          }
        : {},
    };
  }

  // biome-ignore lint/suspicious/noExplicitAny: the parent's overloads (stream or not) are not expressible here
  override async completionWithRetry(request: any, requestOptions?: any): Promise<any> {
    const sink = (requestOptions as { [PEER_SINK]?: PeerSink } | undefined)?.[PEER_SINK];
    let options = requestOptions;
    if (sink) {
      options = { ...requestOptions };
      delete options[PEER_SINK];
    }
    const result = await super.completionWithRetry(request, options);
    if (sink && request?.stream === true && result && typeof result[Symbol.asyncIterator] === "function") {
      return recordingPeer(result as AsyncIterable<unknown>, sink);
    }
    return result;
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: CompletionsCallOptions,
    runManager?: RunManager,
  ): AsyncGenerator<ChatGenerationChunk> {
    const sink: PeerSink = {};
    yield* super._streamResponseChunks(
      messages,
      { ...options, [PEER_SINK]: sink } as typeof options,
      runManager,
    );
    if (!sink.peer) return;
    const indices = { prompt: options.promptIndex ?? 0, completion: 0 };
    const chunk = new ChatGenerationChunk({
      message: new AIMessageChunk({ content: "", response_metadata: { peer: sink.peer } }),
      text: "",
      generationInfo: indices,
    });
    yield chunk;
    await runManager?.handleLLMNewToken("", indices, undefined, undefined, undefined, { chunk });
  }

  override async *_streamChatModelEvents(
    messages: BaseMessage[],
    options: CompletionsCallOptions,
    runManager?: RunManager,
  ): AsyncGenerator<ChatModelStreamEvent> {
    const sink: PeerSink = {};
    for await (const event of super._streamChatModelEvents(
      messages,
      { ...options, [PEER_SINK]: sink } as typeof options,
      runManager,
    )) {
      if (event.event === "message-finish" && sink.peer) {
        yield { ...event, responseMetadata: { ...event.responseMetadata, peer: sink.peer } };
      } else yield event;
    }
  }
}
