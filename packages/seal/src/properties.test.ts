import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { concat } from "./bytes.js";
import { createChunkedRequestDecapsulator, createChunkedRequestEncapsulator } from "./chunked.js";
import { CipherSuite } from "./cipher-suite.js";
import { SealError } from "./errors.js";
import { decodeKeyConfig, decodeKeyConfigList, type KeyConfig } from "./key-config.js";
import { decapsulateRequest, encapsulateRequest } from "./ohttp.js";
import { join, readableOf, run, runSettled } from "./testing/streams.js";
import { decodeVarint, encodeVarint, varintLength } from "./varint.js";

// Fixed seed: the suite must be deterministic. Runs are modest so the file stays well under a second or two.
const params = { seed: 0x5ea1, numRuns: 150 };
const bytes = (maxLength = 300) => fc.uint8Array({ maxLength });

async function onlySealErrors(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (!SealError.isInstance(error))
      throw new Error(`non-SealError escaped: ${String(error)}`, { cause: error });
  }
}

const suites = [
  new CipherSuite({ kem: 0x20, kdf: 1, aead: 1 }),
  new CipherSuite({ kem: 0x20, kdf: 3, aead: 3 }),
  new CipherSuite({ kem: 0x10, kdf: 1, aead: 2 }),
];
const keys = await Promise.all(suites.map((s) => s.generateKeyPair()));
const suite = suites[0]!;
const recipient = keys[0]!;
const keyConfig: KeyConfig = {
  keyId: 3,
  kemId: 0x20,
  publicKey: recipient.publicKey,
  symmetricAlgorithms: [{ kdfId: 1, aeadId: 1 }],
};
const gatewayKey = { keyConfig, privateKey: recipient.privateKey };

describe("round trips", () => {
  it("HPKE seal/open for random plaintext, aad and info on three suites", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 2 }),
        bytes(),
        bytes(64),
        bytes(64),
        async (i, pt, aad, info) => {
          const s = suites[i]!;
          const { enc, ciphertext } = await s.seal({ recipientPublicKey: keys[i]!.publicKey, info }, pt, aad);
          expect(ciphertext).toHaveLength(pt.length + 16);
          expect(await s.open({ recipientKeyPair: keys[i]!, enc, info }, ciphertext, aad)).toEqual(pt);
        },
      ),
      params,
    );
  });

  it("OHTTP request and response", async () => {
    await fc.assert(
      fc.asyncProperty(bytes(), bytes(), async (request, response) => {
        const client = await encapsulateRequest(keyConfig, request);
        const server = await decapsulateRequest(gatewayKey, client.encapsulatedRequest);
        expect(server.request).toEqual(request);
        expect(await client.context.openResponse(await server.context.sealResponse(response))).toEqual(
          response,
        );
      }),
      params,
    );
  });

  it("sealed streams under arbitrary re-chunking of the wire", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(bytes(40), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (chunks, cuts) => {
          const encapsulator = await createChunkedRequestEncapsulator(keyConfig);
          const wire = join(await run(encapsulator, chunks));
          const offsets = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
          const parts: Uint8Array[] = [];
          let from = 0;
          for (const o of offsets) {
            parts.push(wire.subarray(from, o));
            from = o;
          }
          parts.push(wire.subarray(from));
          const plain = await run(createChunkedRequestDecapsulator(gatewayKey), parts);
          expect(join(plain)).toEqual(concat(...chunks));
        },
      ),
      { ...params, numRuns: 100 },
    );
  });

  it("varints", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (n) => {
        const encoded = encodeVarint(n);
        expect(varintLength(encoded[0]!)).toBe(encoded.length);
        expect(decodeVarint(encoded)).toBe(n);
      }),
      params,
    );
  });
});

describe("arbitrary bytes only ever raise SealError", () => {
  it("RecipientContext.open and CipherSuite.open", async () => {
    const { enc, context } = await suite.setupSender({ recipientPublicKey: recipient.publicKey });
    await context.seal(new Uint8Array(1));
    const ctx = await suite.setupRecipient({ recipientKeyPair: recipient, enc });
    await fc.assert(
      fc.asyncProperty(bytes(), bytes(40), bytes(16), async (ct, e, aad) => {
        await onlySealErrors(() => ctx.open(ct, aad));
        await onlySealErrors(() => suite.open({ recipientKeyPair: recipient, enc: e }, ct, aad));
        await onlySealErrors(() => suites[2]!.open({ recipientKeyPair: keys[2]!, enc: e }, ct, aad));
      }),
      params,
    );
  });

  it("decapsulateRequest, including headers that look right", async () => {
    const header = Uint8Array.of(3, 0, 0x20, 0, 1, 0, 1);
    await fc.assert(
      fc.asyncProperty(bytes(), fc.boolean(), async (tail, withHeader) => {
        await onlySealErrors(() => decapsulateRequest(gatewayKey, withHeader ? concat(header, tail) : tail));
      }),
      params,
    );
  });

  it("openResponse", async () => {
    const { context } = await encapsulateRequest(keyConfig, new Uint8Array(4));
    await fc.assert(
      fc.asyncProperty(bytes(), async (response) => {
        await onlySealErrors(() => context.openResponse(response));
      }),
      params,
    );
  });

  it("stream openers (request decapsulator and response opener)", async () => {
    const encapsulator = await createChunkedRequestEncapsulator(keyConfig);
    const head = join(await run(encapsulator, []));
    await fc.assert(
      fc.asyncProperty(fc.array(bytes(60), { maxLength: 5 }), fc.boolean(), async (parts, withHeader) => {
        const input = withHeader ? [head.subarray(0, 39), ...parts] : parts;
        const { error } = await runSettled(createChunkedRequestDecapsulator(gatewayKey), input);
        if (error !== undefined && !SealError.isInstance(error)) throw error;
        const opened = await runSettled(encapsulator.createResponseOpener(), parts);
        if (opened.error !== undefined && !SealError.isInstance(opened.error)) throw opened.error;
      }),
      params,
    );
  });

  it("decodeKeyConfig and decodeKeyConfigList", () => {
    const prefix = Uint8Array.of(1, 0, 0x20);
    fc.assert(
      fc.property(bytes(), fc.boolean(), (input, withPrefix) => {
        const data = withPrefix ? concat(prefix, input) : input;
        for (const decode of [decodeKeyConfig, decodeKeyConfigList]) {
          try {
            decode(data);
          } catch (error) {
            if (!SealError.isInstance(error)) throw error;
          }
        }
      }),
      params,
    );
  });

  it("non-byte junk in a stream", async () => {
    for (const junk of [null, "x", 42, {}, [1, 2]]) {
      const { error } = await runSettled(createChunkedRequestDecapsulator(gatewayKey), [junk as never]);
      expect(SealError.isInstance(error)).toBe(true);
    }
    const { error } = await runSettled(createChunkedRequestDecapsulator(gatewayKey), []);
    expect((error as SealError).code).toBe("sealed_stream_truncated");
    void readableOf;
  });
});
