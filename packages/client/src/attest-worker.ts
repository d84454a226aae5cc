import {
  type BundlePolicy,
  bindingKeyConfig,
  bindingKeyId,
  decodeBundle,
  verifyBundle,
} from "@peercycles/attest/bundle";
import { fromBase64Url, toHex } from "@peercycles/protocol";
import type { KeyConfig } from "@peercycles/seal";
import type { AttestedWorker } from "./attestation-cache.js";
import { PeerCyclesError } from "./errors.js";
import { UpstreamResponse } from "./upstream-response.js";
import { summarizeAttestation } from "./verification.js";

/** What {@link attestWorker} needs. */
export interface AttestWorkerArguments {
  /** `…/v1/attestation` of the node. */
  readonly url: string;
  readonly model: string;
  readonly policy: BundlePolicy;
  readonly fetch: typeof globalThis.fetch;
  readonly now: () => Date;
  /** Headers for the attestation request (Authorization). */
  readonly headers: Headers;
  /** Most seconds a verified bundle is reused. */
  readonly ttlSeconds: number;
  /** Never reach Intel, AMD or NVIDIA services while verifying (bundles must carry their collateral). */
  readonly offline: boolean;
  /** Fetch for collateral services; default: `fetch`. */
  readonly collateralFetch?: typeof globalThis.fetch | undefined;
  readonly signal?: AbortSignal | null | undefined;
}

interface AttestationAnswer {
  readonly worker: string;
  readonly key_id: number;
  readonly bundle: string;
  readonly simulated: boolean;
}

function isAnswer(value: unknown): value is AttestationAnswer {
  if (typeof value !== "object" || value === null) return false;
  const answer = value as Record<string, unknown>;
  return (
    typeof answer.worker === "string" &&
    answer.worker.length > 0 &&
    Number.isInteger(answer.key_id) &&
    (answer.key_id as number) >= 0 &&
    (answer.key_id as number) <= 255 &&
    typeof answer.bundle === "string" &&
    typeof answer.simulated === "boolean"
  );
}

function rejected(message: string, details: Record<string, unknown>, cause?: unknown): PeerCyclesError {
  return new PeerCyclesError("attestation_rejected", message, {
    details,
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Fetches the attestation bundle of a worker serving `model`, with a fresh client nonce, and
 * verifies it: evidence and policy (`verifyBundle`), then that it is for this model, this nonce and
 * the key id the node announced. Throws `attestation_rejected` (never retryable),
 * `attestation_unavailable` (retryable), or an {@link UpstreamResponse} for a node error answer.
 */
export async function attestWorker(args: AttestWorkerArguments): Promise<AttestedWorker> {
  const nonce = crypto.getRandomValues(new Uint8Array(32));
  const url = new URL(args.url);
  url.searchParams.set("model", args.model);
  url.searchParams.set("nonce", toHex(nonce));
  let response: Response;
  try {
    response = await args.fetch(url.toString(), {
      method: "GET",
      headers: args.headers,
      ...(args.signal ? { signal: args.signal } : {}),
    });
  } catch (error) {
    if (args.signal?.aborted) throw error;
    throw new PeerCyclesError("attestation_unavailable", "the attestation request failed", {
      cause: error,
      details: { url: args.url },
    });
  }
  if (!response.ok) throw await UpstreamResponse.read(response);
  let answer: unknown;
  try {
    answer = await response.json();
  } catch (error) {
    throw new PeerCyclesError("attestation_unavailable", "the attestation answer is not JSON", {
      cause: error,
    });
  }
  if (!isAnswer(answer)) {
    throw new PeerCyclesError(
      "attestation_unavailable",
      "the attestation answer lacks worker, key_id, bundle or simulated",
    );
  }

  let bundleBytes: Uint8Array;
  let bundle: ReturnType<typeof decodeBundle>;
  try {
    bundleBytes = fromBase64Url(answer.bundle);
    bundle = decodeBundle(bundleBytes);
  } catch (error) {
    throw rejected(
      "the attestation bundle does not decode",
      { codes: [codeOf(error) ?? "bundle_malformed"], worker: answer.worker },
      error,
    );
  }
  const now = args.now();
  let verification: Awaited<ReturnType<typeof verifyBundle>>;
  try {
    verification = await verifyBundle(bundle, {
      policy: args.policy,
      now,
      clientNonce: nonce,
      offline: args.offline,
      ...(args.offline ? {} : { fetch: args.collateralFetch ?? args.fetch }),
    });
  } catch (error) {
    const retryable =
      typeof error === "object" && error !== null && (error as { retryable?: unknown }).retryable;
    if (retryable === true) {
      throw new PeerCyclesError("attestation_unavailable", "collateral for the bundle is unavailable", {
        cause: error,
        details: { codes: [codeOf(error)], worker: answer.worker },
      });
    }
    throw rejected(
      `the attestation bundle is unusable: ${codeOf(error) ?? "error"}`,
      { codes: [codeOf(error)], worker: answer.worker },
      error,
    );
  }
  if (!verification.ok) {
    const codes = [...new Set(verification.errors.map((issue) => issue.code))];
    throw rejected(`the attestation bundle was rejected: ${codes.join(", ")}`, {
      codes,
      worker: answer.worker,
      simulated: verification.simulated,
      errors: verification.errors.map((issue) => ({ code: issue.code, message: issue.message })),
    });
  }
  const binding = verification.decodedBinding;
  if (binding.model !== args.model) {
    throw rejected(`the bundle is for model "${binding.model}", not "${args.model}"`, {
      codes: ["bundle_model_mismatch"],
      worker: answer.worker,
    });
  }
  const keyId = bindingKeyId(binding.hpkePublicKey);
  if (keyId !== answer.key_id) {
    throw rejected(`the node announced key id ${answer.key_id}, the attested key has id ${keyId}`, {
      codes: ["bundle_key_id_mismatch"],
      worker: answer.worker,
    });
  }
  if (answer.simulated !== verification.simulated) {
    throw rejected("the node misreports whether the TEE is simulated", {
      codes: ["bundle_simulated_mismatch"],
      worker: answer.worker,
    });
  }

  const policyEnd = (binding.issuedAt + args.policy.maxAgeSeconds) * 1000;
  let collateralEnd = Number.POSITIVE_INFINITY;
  if (verification.cpu.kind !== "sev-snp" && verification.cpu.collateralWindow !== null) {
    const notAfter = Date.parse(verification.cpu.collateralWindow.notAfter);
    // A window the client cannot read is no window: the bundle is used for this call only.
    collateralEnd = Number.isFinite(notAfter) ? notAfter : now.getTime();
  }
  const expiresAt = Math.min(now.getTime() + args.ttlSeconds * 1000, policyEnd, collateralEnd);
  return {
    worker: answer.worker,
    model: binding.model,
    keyConfig: bindingKeyConfig(binding) as KeyConfig,
    signingKey: binding.signingPublicKey,
    simulated: verification.simulated,
    verification,
    expiresAt,
    summary: summarizeAttestation(verification, {
      worker: answer.worker,
      keyId,
      verifiedAt: now,
      expiresAt: new Date(expiresAt),
    }),
  };
}

function codeOf(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && typeof (error as { code?: unknown }).code === "string"
    ? (error as { code: string }).code
    : undefined;
}
