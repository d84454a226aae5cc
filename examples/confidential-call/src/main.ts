/**
 * A confidential call, end to end, in one process:
 *
 *   enclave (simulated TEE)  ── bundle ──▶  client verifies it (policy: allowSimulated)
 *   client  ── prompt sealed to the attested HPKE key ──▶  enclave opens it, answers, seals back
 *   enclave ── signed receipt ──▶  client checks it with the attested signing key
 *
 * The "host" in between only relays bytes. Run: pnpm --filter @peercycles/example-confidential-call start
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { toHex } from "@peercycles/attest";
import {
  bindingKeyConfig,
  decodeBundle,
  decodeSignedReceipt,
  encodeSignedReceipt,
  parseBundlePolicy,
  verifyBundle,
  verifyReceipt,
} from "@peercycles/attest/bundle";
import { simulateEnclave } from "@peercycles/enclave";
import { encapsulateRequest } from "@peercycles/seal";

/** What the example checked, for tests and for callers that want the facts rather than the text. */
export interface ConfidentialCallSummary {
  readonly bundleOk: boolean;
  readonly simulated: boolean;
  readonly answer: string;
  readonly receiptOk: boolean;
  readonly tamperedReceiptRejected: boolean;
  readonly checks: readonly string[];
}

const POLICY = fileURLToPath(new URL("../../../docs/policies/development-simulated.json", import.meta.url));
const text = (s: string) => new TextEncoder().encode(s);
const sha256 = async (bytes: Uint8Array) =>
  new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));

/** A tiny deterministic "model" standing in for inference inside the enclave. */
function tinyModel(prompt: string): { text: string; promptTokens: number; completionTokens: number } {
  const words = prompt.trim().split(/\s+/);
  const answer = `You asked ${words.length} words; the last one was "${words.at(-1)}". This answer was computed inside the enclave.`;
  return { text: answer, promptTokens: words.length, completionTokens: answer.split(/\s+/).length };
}

export async function main(log: (line: string) => void = console.log): Promise<ConfidentialCallSummary> {
  const checks: string[] = [];
  const ok = (line: string) => {
    checks.push(line);
    log(`  ✓ ${line}`);
  };

  // 1. The client picks a nonce; the enclave attests with it in its binding (freshness).
  const clientNonce = crypto.getRandomValues(new Uint8Array(16));
  log("1. Enclave starts (SIMULATED TEE: development roots), generates its keys and attests");
  const enclave = await simulateEnclave({ model: "peer-mixtral", cpu: "tdx", gpus: 1, clientNonce });
  log(
    `   bundle: ${enclave.bytes.length} bytes of CBOR (TDX quote + DCAP collateral, 1 × SPDM GPU report, binding)`,
  );

  // 2. The host relays the bundle; the client verifies it.
  log("2. Client verifies the attestation bundle");
  const policy = parseBundlePolicy(JSON.parse(readFileSync(POLICY, "utf8")));
  const verification = await verifyBundle(decodeBundle(enclave.bytes), {
    policy,
    now: new Date(),
    offline: true,
    clientNonce,
  });
  for (const check of verification.checks) {
    if (check.status === "pass") ok(check.label + (check.detail ? `  (${check.detail})` : ""));
    else
      log(
        `  ${check.status === "fail" ? "✗" : "–"} ${check.label}${check.detail ? `  (${check.detail})` : ""}`,
      );
  }
  if (!verification.ok)
    throw new Error(`bundle rejected: ${verification.errors.map((e) => e.code).join(", ")}`);
  log(`   simulated: ${verification.simulated} (accepted only because the policy sets allowSimulated)`);

  // 3. The client seals the prompt to the attested HPKE key (RFC 9458 encapsulation).
  log("3. Client seals the prompt to the attested key");
  const prompt = "What is the capital of the confidential computing world?";
  const { encapsulatedRequest, context } = await encapsulateRequest(
    bindingKeyConfig(verification.decodedBinding),
    text(prompt),
  );
  ok(
    `prompt sealed: ${encapsulatedRequest.length} bytes, key id ${bindingKeyConfig(verification.decodedBinding).keyId}`,
  );

  // 4. Inside the enclave: open, run the model, seal the answer, sign the receipt.
  log("4. Enclave opens the request, runs the model, seals the answer and signs a receipt");
  const opened = await enclave.keys.openRequest(encapsulatedRequest);
  const output = tinyModel(new TextDecoder().decode(opened.request));
  const sealed = await enclave.keys.sealResponse(opened.handle, text(output.text));
  const signed = enclave.keys.signReceipt({
    requestHash: opened.requestHash,
    responseHash: sealed.responseHash,
    model: "peer-mixtral",
    seed: 42,
    usage: { promptTokens: output.promptTokens, completionTokens: output.completionTokens },
    worker: "simulated-worker-1",
    time: Math.floor(Date.now() / 1000),
  });
  ok(`request opened inside the enclave (${opened.request.length} bytes of plaintext never left it)`);
  const receiptBytes = encodeSignedReceipt(signed);

  // 5. The client opens the answer and checks the receipt against the attested signing key.
  log("5. Client opens the answer and checks the receipt");
  const answer = new TextDecoder().decode(await context.openResponse(sealed.encapsulated));
  ok(`answer opened: "${answer}"`);
  const receipt = await verifyReceipt(
    decodeSignedReceipt(receiptBytes),
    verification.decodedBinding.signingPublicKey,
  );
  if (!receipt.ok || !receipt.receipt)
    throw new Error(`receipt rejected: ${receipt.errors.map((e) => e.code).join(", ")}`);
  ok(`receipt signed by the attested enclave key (id ${receipt.id?.slice(0, 16)}…)`);
  const r = receipt.receipt;
  if (toHex(r.requestHash) !== toHex(await sha256(encapsulatedRequest)))
    throw new Error("receipt is for another request");
  ok("receipt request hash = SHA-256(sealed request we sent)");
  if (toHex(r.responseHash) !== toHex(await sha256(sealed.encapsulated)))
    throw new Error("receipt is for another response");
  ok("receipt response hash = SHA-256(sealed response we received)");
  if (r.model !== verification.binding.model) throw new Error("receipt names another model");
  ok(
    `receipt model ${r.model} = attested model; usage ${r.usage.promptTokens} + ${r.usage.completionTokens} tokens`,
  );

  const tampered = { body: new Uint8Array(signed.body), signature: signed.signature };
  tampered.body[tampered.body.length - 1] = (tampered.body[tampered.body.length - 1] as number) ^ 1;
  const tamperedResult = await verifyReceipt(tampered, verification.decodedBinding.signingPublicKey);
  if (tamperedResult.ok) throw new Error("a tampered receipt verified");
  ok(`a tampered receipt is rejected (${tamperedResult.errors[0]?.code})`);

  log(
    "Done: the prompt was readable only inside the attested enclave, and the receipt binds the answer to it.",
  );
  return {
    bundleOk: verification.ok,
    simulated: verification.simulated,
    answer,
    receiptOk: receipt.ok,
    tamperedReceiptRejected: !tamperedResult.ok,
    checks,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
