/**
 * `pnpm --filter @peercycles/client bench`: what `peerFetch` adds to a confidential call, beside
 * plain `fetch` doing the same HTTP exchange with the same node.
 *
 * The node is the client tests' fake node (a real simulated enclave: evidence, HPKE, chunked OHTTP,
 * Ed25519 receipts) served over HTTP on 127.0.0.1. The plain-fetch baseline posts an already sealed
 * request with the routing headers and reads the sealed answer's bytes, so the node does the same
 * work for both; the difference is the client's own: seal, open, check the receipt, rewrite the
 * body — and, cold, fetch and verify the attestation bundle.
 *
 * Shared machines change speed over seconds, so the tasks run in short interleaved rounds and each
 * figure is the median of its round means.
 */
import { bindingKeyConfig, decodeBundle, parseBundlePolicy, verifyBundle } from "@peercycles/attest/bundle";
import { fromBase64Url, toHex } from "@peercycles/protocol";
import { encapsulateRequest, type KeyConfig } from "@peercycles/seal";
import { Bench } from "tinybench";
import { AttestationCache, type AttestedWorker } from "../src/attestation-cache.js";
import { sealedRequestHeaders } from "../src/confidential.js";
import { peerFetch } from "../src/peer-fetch.js";
import { FakeNode } from "../src/testing/fake-node.js";
import { developmentPolicy } from "../src/testing/policies.js";
import { serveHandler } from "../src/testing/serve.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MODEL = "peer-mixtral";

function check(condition: unknown, what: string): void {
  if (!condition) throw new Error(`benchmark: ${what} failed`);
}

async function firstChunk(response: Response): Promise<void> {
  const reader = response.body!.getReader();
  const first = await reader.read();
  check(!first.done, "first chunk");
  for (;;) if ((await reader.read()).done) break;
}

export async function run(): Promise<void> {
  const node = await FakeNode.create({ model: MODEL });
  const server = await serveHandler(node.handle);
  const chatUrl = `${server.url}/v1/chat/completions`;
  const policyJson = developmentPolicy();
  const policy = parseBundlePolicy(policyJson);
  const body = JSON.stringify({
    model: MODEL,
    messages: [{ role: "user", content: "a prompt of about the usual length for an agent's call" }],
  });
  const streamBody = JSON.stringify({ ...JSON.parse(body), stream: true });
  const headers = { "content-type": "application/json", authorization: `Bearer ${node.apiKey}` };

  try {
    const warm = peerFetch({ tier: "confidential", policy: policyJson });
    const warmed = await warm(chatUrl, { method: "POST", headers, body });
    check(warmed.ok, "warm-up call");
    await warmed.json();
    const attested = warm.cache.get(`${server.url}/v1/attestation ${MODEL}`, Date.now()) as AttestedWorker;
    check(attested, "cached attestation");

    // Baseline: the same exchange with plain fetch (a request sealed once, the answer read as bytes).
    const { encapsulatedRequest } = await encapsulateRequest(
      attested.keyConfig,
      new TextEncoder().encode(body),
    );
    const sealedHeaders = sealedRequestHeaders(new Headers(headers), attested, false);
    const plainSealed = async () => {
      const response = await fetch(chatUrl, {
        method: "POST",
        headers: sealedHeaders,
        body: encapsulatedRequest as BodyInit,
      });
      check(response.ok, "plain sealed call");
      await response.arrayBuffer();
    };
    const peerWarm = async () => {
      const response = await warm(chatUrl, { method: "POST", headers, body });
      check(response.ok, "peerFetch warm");
      await response.json();
    };
    const peerCold = async () => {
      const cold = peerFetch({ tier: "confidential", policy, cache: new AttestationCache() });
      const response = await cold(chatUrl, { method: "POST", headers, body });
      check(response.ok, "peerFetch cold");
      await response.json();
    };
    // The two halves of the cold path: the node making a bundle, the client verifying it.
    const nonce = crypto.getRandomValues(new Uint8Array(32));
    const attestationUrl = `${server.url}/v1/attestation?model=${MODEL}&nonce=${toHex(nonce)}`;
    const plainAttestation = async () => {
      const response = await fetch(attestationUrl, { headers });
      check(response.ok, "attestation");
      await response.arrayBuffer();
    };
    const bundleBytes = fromBase64Url(
      ((await (await fetch(attestationUrl, { headers })).json()) as { bundle: string }).bundle,
    );
    const verifyOnly = async () => {
      const result = await verifyBundle(decodeBundle(bundleBytes), {
        policy,
        now: new Date(),
        clientNonce: nonce,
        offline: true,
      });
      check(result.ok, "verifyBundle");
      check((bindingKeyConfig(result.decodedBinding) as KeyConfig).keyId === attested.keyConfig.keyId, "key");
    };
    // Streams: the whole stream, and the time to the first chunk.
    const sealedStream = await (async () => {
      const { sealRequest } = await import("../src/confidential.js");
      return sealRequest(attested, new TextEncoder().encode(streamBody), true);
    })();
    const streamHeaders = sealedRequestHeaders(new Headers(headers), attested, true);
    const plainStream = async () => {
      const response = await fetch(chatUrl, {
        method: "POST",
        headers: streamHeaders,
        body: sealedStream.bytes as BodyInit,
      });
      check(response.ok, "plain stream");
      await firstChunk(response);
    };
    const peerStream = async () => {
      const response = await warm(chatUrl, { method: "POST", headers, body: streamBody });
      check(response.ok, "peerFetch stream");
      await firstChunk(response);
    };

    const tasks: [string, () => Promise<void>][] = [
      ["plain fetch: sealed JSON call (baseline)", plainSealed],
      ["peerFetch: confidential JSON, warm (bundle cached)", peerWarm],
      ["peerFetch: confidential JSON, cold (attest + verify)", peerCold],
      ["plain fetch: GET /v1/attestation (node makes a bundle)", plainAttestation],
      ["verifyBundle alone (client side of cold)", verifyOnly],
      ["plain fetch: sealed stream (baseline)", plainStream],
      ["peerFetch: confidential stream, warm", peerStream],
    ];
    const samples = new Map<string, number[]>(tasks.map(([name]) => [name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const bench = new Bench({ time: 300, warmupTime: 60 });
      for (const [name, fn] of tasks) bench.add(name, fn);
      await bench.run();
      for (const task of bench.tasks) {
        const result = task.result as { latency?: { mean: number } } | undefined;
        samples.get(task.name)?.push(result?.latency?.mean ?? Number.NaN);
      }
    }

    // Time to first token: first SSE chunk out of peerFetch vs first sealed byte from plain fetch.
    const ttft = async (call: () => Promise<Response>) => {
      const times: number[] = [];
      for (let i = 0; i < 40; i++) {
        const start = performance.now();
        const response = await call();
        const reader = response.body!.getReader();
        await reader.read();
        times.push(performance.now() - start);
        for (;;) if ((await reader.read()).done) break;
      }
      return median(times);
    };
    const ttftPlain = await ttft(() =>
      fetch(chatUrl, { method: "POST", headers: streamHeaders, body: sealedStream.bytes as BodyInit }),
    );
    const ttftPeer = await ttft(() => warm(chatUrl, { method: "POST", headers, body: streamBody }));

    // CPU time per call (this process runs the client and the node): steadier than wall time on a
    // loaded machine, and the difference is the client's own work.
    const cpuPerCall = async (call: () => Promise<void>, count = 200) => {
      for (let i = 0; i < 20; i++) await call();
      const start = process.cpuUsage();
      for (let i = 0; i < count; i++) await call();
      const used = process.cpuUsage(start);
      return (used.user + used.system) / 1000 / count;
    };
    const cpuPlain = await cpuPerCall(plainSealed);
    const cpuWarm = await cpuPerCall(peerWarm);
    const cpuCold = await cpuPerCall(peerCold, 40);

    const ms = new Map(tasks.map(([name]) => [name, median(samples.get(name) as number[])]));
    const at = (i: number) => ms.get(tasks[i]?.[0] as string) as number;
    console.log(
      `median of ${ROUNDS} interleaved tinybench rounds (300 ms per task per round), node on 127.0.0.1`,
    );
    console.table(
      tasks.map(([name]) => ({
        task: name,
        "ops/s": Math.round(1000 / (ms.get(name) as number)),
        "mean ms": Number((ms.get(name) as number).toFixed(3)),
      })),
    );
    const warmOverhead = at(1) - at(0);
    const coldOverhead = at(2) - at(0);
    const streamOverhead = at(6) - at(5);
    console.table([
      {
        call: "JSON, warm",
        "plain fetch ms": round(at(0)),
        "peerFetch ms": round(at(1)),
        "overhead ms": round(warmOverhead),
        target: "≤ 3",
        met: warmOverhead <= 3,
      },
      {
        call: "JSON, cold",
        "plain fetch ms": round(at(0)),
        "peerFetch ms": round(at(2)),
        "overhead ms": round(coldOverhead),
        target: "≤ 50",
        met: coldOverhead <= 50,
      },
      {
        call: "stream, warm",
        "plain fetch ms": round(at(5)),
        "peerFetch ms": round(at(6)),
        "overhead ms": round(streamOverhead),
        target: "",
        met: "",
      },
      {
        call: "stream, time to first token",
        "plain fetch ms": round(ttftPlain),
        "peerFetch ms": round(ttftPeer),
        "overhead ms": round(ttftPeer - ttftPlain),
        target: "",
        met: "",
      },
    ]);
    console.table([
      {
        call: "JSON, warm",
        "plain fetch CPU ms": round(cpuPlain),
        "peerFetch CPU ms": round(cpuWarm),
        "client CPU ms": round(cpuWarm - cpuPlain),
      },
      {
        call: "JSON, cold",
        "plain fetch CPU ms": round(cpuPlain),
        "peerFetch CPU ms": round(cpuCold),
        "client CPU ms": round(cpuCold - cpuPlain),
      },
    ]);
    console.log(
      `cold = node making a bundle (${round(at(3))} ms) + client verifying it (${round(at(4))} ms) + the warm call`,
    );
  } finally {
    await server.close();
  }
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
}

function round(value: number): number {
  return Number(value.toFixed(2));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run();
}
