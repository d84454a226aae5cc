import { decodeBundle, encodeBundle } from "@peercycles/attest/bundle";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { PeerCyclesError } from "./errors.js";
import { peerFetch } from "./peer-fetch.js";
import { FakeNode } from "./testing/fake-node.js";
import { developmentPolicy } from "./testing/policies.js";

const CHAT = "http://node.test/v1/chat/completions";
let node: FakeNode;
beforeAll(async () => {
  node = await FakeNode.create();
});

type Rewrite = (request: Request, response: Response) => Promise<Response>;

/** A peerFetch whose node answers are rewritten by `rewrite` (requests go to the fake node as they are). */
function clientThrough(rewrite: Rewrite, tier: "confidential" | "verified" = "confidential") {
  return peerFetch({
    tier,
    policy: developmentPolicy(),
    apiKey: node.apiKey,
    fetch: async (input, init) => {
      const request = new Request(input, init);
      return rewrite(request, await node.fetch(request.clone()));
    },
  });
}

/** Runs one call and reads its whole body; the error it ends with, or undefined. */
async function outcome(fetch: ReturnType<typeof peerFetch>, stream: boolean): Promise<unknown> {
  try {
    const response = await fetch(CHAT, {
      method: "POST",
      body: JSON.stringify({ model: "peer-mixtral", messages: [{ role: "user", content: "hi" }], stream }),
    });
    await response.arrayBuffer();
    return response.ok ? undefined : `status ${response.status}`;
  } catch (error) {
    return error;
  }
}

function flip(bytes: Uint8Array, at: number, mask: number): Uint8Array {
  const out = new Uint8Array(bytes);
  const index = at % out.length;
  out[index] = (out[index] as number) ^ (mask || 1);
  return out;
}

const isChat = (request: Request) => request.method === "POST";
const isAttestation = (request: Request) => request.method === "GET";
const runs = { numRuns: 40 };

describe("properties: nothing a node sends is taken as good unless it checks", () => {
  it("one flipped byte anywhere in a sealed answer: a PeerCyclesError", async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.integer({ min: 1, max: 255 }), async (at, mask) => {
        const fetch = clientThrough(async (request, response) => {
          if (!isChat(request)) return response;
          const body = flip(new Uint8Array(await response.arrayBuffer()), at, mask);
          return new Response(body as BodyInit, { status: response.status, headers: response.headers });
        });
        expect(PeerCyclesError.isInstance(await outcome(fetch, false))).toBe(true);
      }),
      runs,
    );
  });

  it("one flipped byte anywhere in a sealed stream but the peer frame's JSON: a PeerCyclesError", async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.integer({ min: 1, max: 255 }), async (at, mask) => {
        const fetch = clientThrough(async (request, response) => {
          if (!isChat(request)) return response;
          const body = new Uint8Array(await response.arrayBuffer());
          // The last frame is the peer frame: its 5-byte header is in range, its JSON is not.
          let offset = 0;
          let peerPayloadStart = body.length;
          while (offset < body.length) {
            const length = new DataView(body.buffer, body.byteOffset + offset + 1, 4).getUint32(0);
            if (body[offset] === 1) peerPayloadStart = offset + 5;
            offset += 5 + length;
          }
          const flipped = flip(body, at % peerPayloadStart, mask);
          return new Response(flipped as BodyInit, { status: response.status, headers: response.headers });
        });
        const error = await outcome(fetch, true);
        expect(PeerCyclesError.isInstance(error), String(error)).toBe(true);
      }),
      runs,
    );
  });

  it("a changed receipt, usage, worker, tier or key id in the peer frame: a PeerCyclesError", async () => {
    const edits: Array<(peer: Record<string, unknown>) => void> = [
      (peer) => {
        peer.usage = { prompt_tokens: 5, completion_tokens: 999 };
      },
      (peer) => {
        peer.worker = "another-worker";
      },
      (peer) => {
        peer.tier = "verified";
      },
      (peer) => {
        peer.key_id = ((peer.key_id as number) + 1) % 256;
      },
      (peer) => {
        const receipt = peer.receipt as Record<string, string>;
        receipt.id = "0".repeat(64);
      },
      (peer) => {
        const receipt = peer.receipt as Record<string, string>;
        // Flip a bit of R: rewriting the last characters is a no-op whenever the signature already
        // ends that way (an Ed25519 S is < 2^253, so its last byte is 0 one time in 16).
        const signature = Buffer.from(receipt.signature ?? "", "base64url");
        signature[0] = (signature[0] ?? 0) ^ 1;
        receipt.signature = signature.toString("base64url");
      },
      (peer) => {
        delete peer.receipt;
      },
    ];
    for (const [i, edit] of edits.entries()) {
      for (const stream of [false, true]) {
        const fetch = clientThrough(async (request, response) => {
          if (!isChat(request)) return response;
          const headers = new Headers(response.headers);
          if (!stream) {
            const peer = JSON.parse(Buffer.from(headers.get("peer-info") ?? "", "base64url").toString());
            edit(peer);
            headers.set("peer-info", Buffer.from(JSON.stringify(peer)).toString("base64url"));
            return new Response(await response.arrayBuffer(), { headers });
          }
          const body = new Uint8Array(await response.arrayBuffer());
          let offset = 0;
          while (body[offset] !== 1) offset += 5 + new DataView(body.buffer, offset + 1, 4).getUint32(0);
          const peer = JSON.parse(Buffer.from(body.subarray(offset + 5)).toString());
          edit(peer);
          const json = Buffer.from(JSON.stringify(peer));
          const frame = new Uint8Array(5 + json.length);
          frame[0] = 1;
          new DataView(frame.buffer).setUint32(1, json.length);
          frame.set(json, 5);
          return new Response(Buffer.concat([body.subarray(0, offset), frame]) as BodyInit, { headers });
        });
        const error = await outcome(fetch, stream);
        expect(PeerCyclesError.isInstance(error), `edit ${i}, stream ${stream}: ${String(error)}`).toBe(true);
      }
    }
  });

  it("arbitrary bytes as a sealed answer, a sealed stream or a peer-info header: a PeerCyclesError", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 400 }),
        fc.boolean(),
        fc.boolean(),
        async (bytes, stream, headerOnly) => {
          // A stream has no peer-info header: for a stream, always replace the body.
          const inHeader = headerOnly && !stream;
          const fetch = clientThrough(async (request, response) => {
            if (!isChat(request)) return response;
            const headers = new Headers(response.headers);
            if (inHeader) {
              headers.set("peer-info", Buffer.from(bytes).toString("base64url"));
              return new Response(await response.arrayBuffer(), { headers });
            }
            return new Response(bytes as BodyInit, { headers });
          });
          expect(PeerCyclesError.isInstance(await outcome(fetch, stream))).toBe(true);
        },
      ),
      runs,
    );
  });

  it("one flipped bit in the binding, the quote's signed part or the GPU evidence: attestation_rejected, nothing sent", async () => {
    // (The PEM text around the certificates and collateral is not covered here: a changed END line or
    // a whitespace byte there decodes to the same DER and is accepted by the verifier.)
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("binding", "quote", "gpu"),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        async (part, at, bit) => {
          let chats = 0;
          const fetch = clientThrough(async (request, response) => {
            if (isChat(request)) chats++;
            if (!isAttestation(request)) return response;
            const answer = (await response.json()) as { bundle: string };
            const bundle = decodeBundle(Buffer.from(answer.bundle, "base64url"));
            const mask = 1 << bit;
            const changed =
              part === "binding"
                ? { ...bundle, binding: flip(bundle.binding, at, mask) }
                : part === "quote"
                  ? {
                      ...bundle,
                      cpu: { ...bundle.cpu, evidence: flip(bundle.cpu.evidence.subarray(0, 632), at, mask) },
                    }
                  : {
                      ...bundle,
                      gpus: bundle.gpus.map((gpu) => ({ ...gpu, evidence: flip(gpu.evidence, at, mask) })),
                    };
            if (part === "quote") {
              const evidence = new Uint8Array(bundle.cpu.evidence);
              evidence.set(changed.cpu.evidence);
              changed.cpu = { ...bundle.cpu, evidence } as typeof bundle.cpu;
            }
            const bytes = encodeBundle(changed as typeof bundle);
            return Response.json({ ...answer, bundle: Buffer.from(bytes).toString("base64url") });
          });
          const error = await outcome(fetch, false);
          expect(PeerCyclesError.isInstance(error), `${part}@${at}: ${String(error)}`).toBe(true);
          expect((error as PeerCyclesError).code).toBe("attestation_rejected");
          expect(chats).toBe(0);
        },
      ),
      { numRuns: 30 },
    );
  });

  it("one flipped byte in a verified answer's text or receipt: a PeerCyclesError", async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.boolean(), async (at, stream) => {
        const fetch = clientThrough(async (request, response) => {
          if (!isChat(request)) return response;
          const text = await response.text();
          // Flip one letter or digit (a change that keeps JSON / SSE well-formed).
          const positions = [...text.matchAll(/[A-Za-z0-9]/g)].map((match) => match.index);
          const index = positions[at % positions.length] as number;
          const char = text.charCodeAt(index);
          const swapped = String.fromCharCode(char === 65 ? 66 : char === 48 ? 49 : char ^ 1);
          const changed =
            text.slice(0, index) + (/[A-Za-z0-9]/.test(swapped) ? swapped : "Q") + text.slice(index + 1);
          return new Response(changed, { headers: response.headers });
        }, "verified");
        const error = await outcome(fetch, stream);
        // Some letters are not covered by the receipt (the id, created, object names): those pass.
        if (error !== undefined) expect(PeerCyclesError.isInstance(error), String(error)).toBe(true);
      }),
      runs,
    );
  });
});
