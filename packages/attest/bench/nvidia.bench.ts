/**
 * NVIDIA verification benchmark: `verifyNvidiaEvidence` on a real H100 report with its 5-certificate
 * device chain (nvtrust sample), cold (every cache cleared: certificate parses, imported keys,
 * verified chain signatures) and warm (chain verified before), and `verifyNvidiaEvidenceSet` on the
 * real 12-device PPCIe set (8 H100 + 4 NVSwitch), beside the floor: Node's native P-384 verify of
 * the same SPDM transcript (node:crypto and WebCrypto). The chain costs 4 more P-384 verifies cold.
 * Offline mode (no OCSP), no RIMs: the timed work is parsing + signatures + chain + FWID.
 */
import { createPublicKey, verify as nodeVerify, webcrypto } from "node:crypto";
import { readVector, readVectorText } from "@peercycles/internal-vectors";
import { Bench } from "tinybench";
import { clearKeyCaches } from "../src/common/signatures.js";
import { clearX509Caches, parseCertificates, SignatureVerdictCache } from "../src/common/x509.js";
import {
  clearDeviceChainCaches,
  parseSpdmMeasurements,
  verifyNvidiaEvidence,
  verifyNvidiaEvidenceSet,
} from "../src/nvidia/index.js";

export async function run(): Promise<void> {
  const evidence = readVector("nvidia/nvtrust/hopperAttestationReport.bin");
  const chain = readVectorText("nvidia/nvtrust/hopperCertChain.txt");
  const nonce = "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb";
  const now = new Date("2026-06-01T00:00:00Z");
  const set = [
    ...Array.from({ length: 8 }, (_, i) => ({
      evidence: readVector(`nvidia/nvtrust/ppcie/decoded/gpu_evidence_${i}.evidence.bin`),
      certChain: readVectorText(`nvidia/nvtrust/ppcie/decoded/gpu_evidence_${i}.certchain.pem`),
    })),
    ...Array.from({ length: 4 }, (_, i) => ({
      evidence: readVector(`nvidia/nvtrust/ppcie/decoded/switch_evidence_${i}.evidence.bin`),
      certChain: readVectorText(`nvidia/nvtrust/ppcie/decoded/switch_evidence_${i}.certchain.pem`),
    })),
  ];
  const setNonce = "4760e30534a0621357d458b1a7936551b5dc4cd1e69718adf7ed9fb0252a537e";

  // The floor's inputs, prepared once (outside the timed work, as a native caller would).
  const spdm = parseSpdmMeasurements(evidence);
  const leaf = parseCertificates(chain)[0];
  if (leaf?.publicKey.kind !== "ec") throw new Error("unexpected vectors");
  const key = createPublicKey({ key: Buffer.from(leaf.publicKey.spki), format: "der", type: "spki" });
  const webKey = await webcrypto.subtle.importKey(
    "spki",
    leaf.publicKey.spki,
    { name: "ECDSA", namedCurve: "P-384" },
    false,
    ["verify"],
  );
  const check = (ok: boolean) => {
    if (!ok) throw new Error("benchmark verification failed");
  };
  const floorVerify = () =>
    nodeVerify("sha384", spdm.signedBytes, { key, dsaEncoding: "ieee-p1363" }, spdm.response.signature);
  check(floorVerify());

  const warm = { signatures: new SignatureVerdictCache() };
  const policy = { requireRimMatch: false } as const; // no RIMs in the timed work: the named opt-out
  const options = { certChain: chain, nonce, now, offline: true, policy } as const;
  check((await verifyNvidiaEvidence(evidence, { ...options, cache: warm })).ok);
  check(
    (await verifyNvidiaEvidenceSet(set, { nonce: setNonce, now, offline: true, policy, cache: warm })).ok,
  );

  const bench = new Bench({ time: 1500, warmupTime: 300 });
  bench
    .add("native P-384 verify (node:crypto, floor)", () => {
      check(floorVerify());
    })
    .add("native P-384 verify (WebCrypto)", async () => {
      check(
        await webcrypto.subtle.verify(
          { name: "ECDSA", hash: "SHA-384" },
          webKey,
          spdm.response.signature,
          spdm.signedBytes,
        ),
      );
    })
    .add("native P-384 verify ×5 (report + 4 chain links)", () => {
      for (let i = 0; i < 5; i++) check(floorVerify());
    })
    .add("verifyNvidiaEvidence H100 cold (no caches)", async () => {
      clearX509Caches();
      clearKeyCaches();
      clearDeviceChainCaches();
      check(
        (
          await verifyNvidiaEvidence(evidence, {
            ...options,
            cache: { signatures: new SignatureVerdictCache() },
          })
        ).ok,
      );
    })
    .add("verifyNvidiaEvidence H100 warm (chain cached)", async () => {
      check((await verifyNvidiaEvidence(evidence, { ...options, cache: warm })).ok);
    })
    .add("verifyNvidiaEvidenceSet 8 GPU + 4 switch, warm", async () => {
      check(
        (await verifyNvidiaEvidenceSet(set, { nonce: setNonce, now, offline: true, policy, cache: warm })).ok,
      );
    })
    .add("native P-384 verify ×12 (set floor)", () => {
      for (let i = 0; i < 12; i++) check(floorVerify());
    });
  await bench.run();

  const mean = new Map<string, number>();
  const rows = bench.tasks.map((task) => {
    const result = task.result as { latency?: { mean: number } } | undefined;
    const meanUs = (result?.latency?.mean ?? Number.NaN) * 1000;
    mean.set(task.name, meanUs);
    return { task: task.name, "ops/s": Math.round(1e6 / meanUs), "mean µs": Number(meanUs.toFixed(1)) };
  });
  console.table(rows);
  const get = (name: string) => mean.get(name) as number;
  const floor = get("native P-384 verify (node:crypto, floor)");
  console.log(
    `H100 cold / native ×5      = ${(get("verifyNvidiaEvidence H100 cold (no caches)") / get("native P-384 verify ×5 (report + 4 chain links)")).toFixed(2)}x`,
  );
  console.log(
    `H100 warm / floor          = ${(get("verifyNvidiaEvidence H100 warm (chain cached)") / floor).toFixed(2)}x`,
  );
  console.log(
    `PPCIe set warm / native ×12 = ${(get("verifyNvidiaEvidenceSet 8 GPU + 4 switch, warm") / get("native P-384 verify ×12 (set floor)")).toFixed(2)}x`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
