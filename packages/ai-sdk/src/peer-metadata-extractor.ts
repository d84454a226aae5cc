import type { MetadataExtractor } from "@ai-sdk/openai-compatible";
import type { SharedV4ProviderMetadata } from "@ai-sdk/provider";

type Peer = SharedV4ProviderMetadata[string];

/** The `peer` object (with `verification`) of a completion or chunk, if it carries one. */
function peerOf(value: unknown): Peer | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const peer = (value as { peer?: unknown }).peer;
  return typeof peer === "object" && peer !== null && !Array.isArray(peer) ? (peer as Peer) : undefined;
}

/**
 * The openai-compatible provider's `metadataExtractor` that puts the `peer` object of an answer
 * (the JSON completion's, or the stream's final chunk's, with the `verification` that
 * `peerFetch` added) in `providerMetadata[name]`.
 *
 * @example
 * ```ts
 * const provider = createOpenAICompatible({ name: "peercycles", baseURL, fetch: peerFetch(options),
 *   metadataExtractor: peerMetadataExtractor("peercycles") });
 * ```
 */
export function peerMetadataExtractor(name: string): MetadataExtractor {
  return {
    async extractMetadata({ parsedBody }) {
      const peer = peerOf(parsedBody);
      return peer ? { [name]: peer } : undefined;
    },
    createStreamExtractor() {
      let peer: Peer | undefined;
      return {
        processChunk(parsedChunk) {
          peer = peerOf(parsedChunk) ?? peer;
        },
        buildMetadata() {
          return peer ? { [name]: peer } : undefined;
        },
      };
    },
  };
}
