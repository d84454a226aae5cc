/**
 * TDX verification benchmark: full verification of `tdx/phala-dcap-qvl/tdx_quote` with its
 * collateral (`tdx_quote_collateral.json`) at 2025-07-19T10:00:34Z, side by side with
 * `@phala/dcap-qvl`'s `verify` (pure JS) on the same inputs, in one run.
 *
 * - cold: every cache cleared before each iteration (`clearTdxCaches()`: verified collateral,
 *   chain verdicts, parsed certificates and CRLs, imported WebCrypto keys, PCK extensions). The
 *   clearing is part of the timed work (it is cheap next to a verification).
 * - warm: the verified collateral and the PCK chain verdicts are cached; the quote signature and
 *   the QE report signature are still checked on every call (they are per-quote work).
 *
 * Targets: ≥ 5× faster than dcap-qvl cold, ≥ 20× warm.
 *
 * A floor row shows the WebCrypto work a cold verification cannot avoid: 5 P-256 key imports
 * (attestation key, PCK leaf, PCK CA, root, TCB signing) and 9 verifications (quote, QE report,
 * PCK leaf, PCK CA, TCB signing certificate, TCB info, QE identity, PCK CRL, root CRL).
 */
import { readVector, readVectorText } from "@peercycles/internal-vectors";
import { verify as dcapVerify } from "@phala/dcap-qvl";
import { Bench } from "tinybench";
import { clearTdxCaches, type QuoteCollateralV3, verifyTdxQuote } from "../src/tdx/index.js";

export async function run(): Promise<void> {
  const quote = readVector("tdx/phala-dcap-qvl/tdx_quote");
  const collateralText = readVectorText("tdx/phala-dcap-qvl/tdx_quote_collateral.json");
  const collateral = JSON.parse(collateralText) as QuoteCollateralV3;
  const nowSeconds = 1752919234;
  const now = new Date(nowSeconds * 1000);
  const quoteBuffer = Buffer.from(quote);

  const check = (ok: boolean, what: string) => {
    if (!ok) throw new Error(`benchmark: ${what} did not verify`);
  };
  const peer = () => {
    const report = dcapVerify(quoteBuffer, collateral as never, nowSeconds) as { status: string };
    check(report.status === "UpToDate", "dcap-qvl");
  };
  const ours = async () => {
    const result = await verifyTdxQuote(quote, { collateral, now });
    check(result.ok && result.tcbStatus === "UpToDate", "verifyTdxQuote");
  };
  peer();
  clearTdxCaches();
  await ours();

  // The floor's inputs: fresh keys and signatures over 1000 bytes, imported anew each iteration.
  const subtle = globalThis.crypto.subtle;
  const algorithm = { name: "ECDSA", namedCurve: "P-256" } as const;
  const signed = new Uint8Array(1000);
  const floorKeys = await Promise.all(
    Array.from({ length: 5 }, async () => {
      const pair = (await subtle.generateKey(algorithm, true, ["sign", "verify"])) as CryptoKeyPair;
      const raw = new Uint8Array(await subtle.exportKey("raw", pair.publicKey));
      const signature = new Uint8Array(
        await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, signed),
      );
      return { raw, signature };
    }),
  );
  const floorUse = [0, 1, 2, 2, 3, 3, 4, 4, 3];
  const floor = async () => {
    const keys = await Promise.all(
      floorKeys.map((k) => subtle.importKey("raw", k.raw, algorithm, false, ["verify"])),
    );
    const results = await Promise.all(
      floorUse.map((i) =>
        subtle.verify(
          { name: "ECDSA", hash: "SHA-256" },
          keys[i] as CryptoKey,
          (floorKeys[i] as { signature: Uint8Array }).signature as BufferSource,
          signed,
        ),
      ),
    );
    check(results.every(Boolean), "floor");
  };

  const bench = new Bench({ time: 2000, warmupTime: 300 });
  bench
    .add("WebCrypto floor (5 P-256 imports + 9 verifies)", floor)
    .add("verifyTdxQuote cold (all caches cleared)", async () => {
      clearTdxCaches();
      await ours();
    })
    .add("verifyTdxQuote warm (collateral + chain cached)", ours)
    .add("@phala/dcap-qvl verify", peer);
  await bench.run();

  const mean = new Map<string, number>();
  for (const task of bench.tasks) {
    const result = task.result as { latency?: { mean: number } } | undefined;
    mean.set(task.name, (result?.latency?.mean ?? Number.NaN) * 1000);
  }
  const peerUs = mean.get("@phala/dcap-qvl verify") as number;
  console.table(
    bench.tasks.map((task) => {
      const us = mean.get(task.name) as number;
      return {
        task: task.name,
        "ops/s": Math.round(1e6 / us),
        "mean µs": Number(us.toFixed(1)),
        "× faster than dcap-qvl": Number((peerUs / us).toFixed(1)),
      };
    }),
  );
  const cold = peerUs / (mean.get("verifyTdxQuote cold (all caches cleared)") as number);
  const floorRatio = peerUs / (mean.get("WebCrypto floor (5 P-256 imports + 9 verifies)") as number);
  const warm = peerUs / (mean.get("verifyTdxQuote warm (collateral + chain cached)") as number);
  console.log(
    `cold: ${cold.toFixed(1)}× faster than dcap-qvl (target ≥ 5×): ${cold >= 5 ? "met" : "NOT met"}`,
  );
  console.log(
    `warm: ${warm.toFixed(1)}× faster than dcap-qvl (target ≥ 20×): ${warm >= 20 ? "met" : "NOT met"}`,
  );
  console.log(
    `(the WebCrypto floor alone is ${floorRatio.toFixed(1)}× faster than dcap-qvl on this machine)`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
