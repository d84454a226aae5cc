import { decodeEvidenceInput, equalBytes, fromHex, toHex } from "../common/bytes.js";
import { type Check, CheckList } from "../common/check.js";
import { AttestArgumentError, EvidenceInvalidError, type VerificationIssue } from "../common/errors.js";
import { verifyEcdsa } from "../common/signatures.js";
import { isVerificationTime, type Verifier, verifierOf } from "../common/verifier.js";
import { type Certificate, SignatureVerdictCache, type VerifiedChain } from "../common/x509.js";
import {
  deviceIdentity,
  type NvidiaDeviceIdentity,
  parseDeviceCertChain,
  verifyDeviceChain,
} from "./device-chain.js";
import { leafFwid } from "./fwid.js";
import { compareMeasurements, type MeasurementReport } from "./measurements.js";
import { checkRevocation, OcspCache } from "./ocsp.js";
import type { NvidiaFeatureMode } from "./opaque-data.js";
import { type NvidiaPolicy, parseNvidiaPolicy, validateNvidiaPolicy } from "./policy.js";
import { parseRim, type Rim } from "./rim.js";
import { fetchRim, RimCache, rimIdsFor } from "./rim-fetcher.js";
import { type RimVerificationResult, verifyRim } from "./rim-verify.js";
import { defaultDeviceRoots } from "./roots.js";
import { parseSpdmMeasurements, type SpdmEvidence } from "./spdm.js";

/** Caches a warm verifier reuses. Only verified items are stored. */
export interface NvidiaVerifierCache {
  readonly signatures?: SignatureVerdictCache;
  readonly ocsp?: OcspCache;
  readonly rims?: RimCache;
}

export interface VerifyNvidiaOptions {
  /** Device certificate chain, leaf first: PEM, base64 of PEM, or parsed certificates. */
  readonly certChain: string | Uint8Array | readonly Certificate[];
  /** RIMs (XML text, bytes or parsed). When absent and online, they are fetched from NVIDIA's RIM service. */
  readonly rims?: readonly (string | Uint8Array | Rim)[];
  /** Expected requester nonce (hex or 32 bytes). */
  readonly nonce?: string | Uint8Array;
  /** Verification time (required; the verifier never reads the clock). */
  readonly now: Date;
  /** Policy (typed, or a JSON object checked strictly by `parseNvidiaPolicy`). */
  readonly policy?: NvidiaPolicy | Readonly<Record<string, unknown>>;
  /** Never touch the network: no OCSP, no RIM service; results say `revocationChecked: false`. */
  readonly offline?: boolean;
  readonly fetch?: typeof fetch;
  /** Device roots (default: the pinned NVIDIA Device Identity CA). */
  readonly roots?: readonly Certificate[];
  /** RIM roots (default: the pinned NVIDIA CoRIM signing Root CA). */
  readonly rimRoots?: readonly Certificate[];
  readonly cache?: NvidiaVerifierCache;
  /** Base URL of the RIM service (default NVIDIA's). */
  readonly rimServiceUrl?: string;
  /** OCSP responder URL (default NVIDIA's). */
  readonly ocspUrl?: string;
  /**
   * The verifier whose caches and environment (roots, fetch, cache) this call uses; the options
   * above win over its. Without one the call runs on fresh state.
   */
  readonly verifier?: Verifier;
}

/** The key of the NVIDIA state (its default caches) in a {@link Verifier}. */
const NVIDIA_STATE = Symbol("peercycles.attest.nvidia");

/** Summary of one RIM's verification inside a result. */
export interface NvidiaRimSummary {
  readonly version: string;
  readonly kind: "driver" | "vbios";
  readonly ok: boolean;
  readonly revocationChecked: boolean;
  readonly signer: string | undefined;
}

/** The verdict on one device's evidence. */
export interface NvidiaVerificationResult {
  /** Verified and accepted by the policy. */
  readonly ok: boolean;
  /** Every verification check held (genuine, fresh, matching its RIMs). */
  readonly verified: boolean;
  readonly kind: "nvidia";
  readonly device: NvidiaDeviceIdentity | null;
  /** Requester nonce of the evidence (hex). */
  readonly nonce: string;
  readonly driverVersion: string | null;
  readonly vbiosVersion: string | null;
  readonly mode: NvidiaFeatureMode | "invalid" | null;
  readonly revocationChecked: boolean;
  readonly measurements: {
    readonly total: number;
    readonly matched: number;
    readonly mismatched: readonly number[];
  } | null;
  readonly measurementDetails: MeasurementReport | null;
  readonly rims: readonly NvidiaRimSummary[];
  readonly evidence: SpdmEvidence;
  readonly checks: readonly Check[];
  /** Verification errors, then policy violations. */
  readonly errors: readonly VerificationIssue[];
  readonly policyViolations: readonly VerificationIssue[];
  /**
   * Checks that did not happen and that the policy accepted by name: `"nonce"` (`requireNonce:
   * false`), `"measurements"` (`requireRimMatch: false`). Empty when everything was checked.
   */
  readonly unchecked: readonly NvidiaUncheckable[];
}

/** What an NVIDIA policy may accept unchecked by name. */
export type NvidiaUncheckable = "nonce" | "measurements";

function freshCache(): Required<NvidiaVerifierCache> {
  return { signatures: new SignatureVerdictCache(), ocsp: new OcspCache(), rims: new RimCache() };
}

function evidenceBytes(evidence: Uint8Array | string): Uint8Array {
  if (typeof evidence === "string") return fromHex(evidence);
  if (!(evidence instanceof Uint8Array))
    throw new AttestArgumentError("nvidia_argument_invalid", "evidence must be bytes or hex");
  return decodeEvidenceInput(evidence);
}

function expectedNonce(nonce: string | Uint8Array | undefined): Uint8Array | undefined {
  if (nonce === undefined) return undefined;
  const bytes = typeof nonce === "string" ? fromHex(nonce) : nonce;
  if (bytes.length !== 32)
    throw new AttestArgumentError(
      "nvidia_nonce_invalid",
      `expected nonce must be 32 bytes, got ${bytes.length}`,
    );
  return bytes;
}

/** What one verification works with: its inputs, parsed once, and the caches and backend it uses. */
interface NvidiaRun {
  readonly options: VerifyNvidiaOptions;
  readonly verifier: Verifier;
  readonly cache: Required<NvidiaVerifierCache>;
  readonly fetch: typeof fetch | undefined;
  readonly spdm: SpdmEvidence;
  readonly certs: readonly Certificate[];
  readonly nonce: Uint8Array | undefined;
  readonly list: CheckList;
}

/** The device chain, FWID binding, SPDM signature and nonce: is this evidence genuine and fresh? */
async function checkDeviceEvidence(
  run: NvidiaRun,
): Promise<{ chain: VerifiedChain | undefined; device: NvidiaDeviceIdentity }> {
  const { options, verifier, spdm, list, nonce } = run;
  const leaf = run.certs[0] as Certificate;
  const chain: VerifiedChain | undefined = await list.run(
    "device_chain",
    "Device certificate chain to NVIDIA Device Identity CA",
    () =>
      verifyDeviceChain(run.certs, {
        roots: options.roots ?? verifier.roots.nvidia ?? defaultDeviceRoots(),
        now: options.now,
        cache: run.cache.signatures,
        backend: verifier.backend,
      }),
  );
  const device = deviceIdentity(chain?.path ?? run.certs);

  const fwid = spdm.response.opaque.fwid;
  if (fwid) {
    await list.run("fwid", "Leaf certificate FWID matches the evidence", () => {
      const fromCert = leafFwid(leaf);
      if (!equalBytes(fromCert.digest, fwid)) {
        throw new EvidenceInvalidError(
          "nvidia_fwid_mismatch",
          `FWID in the evidence (${toHex(fwid)}) differs from the leaf certificate's (${toHex(fromCert.digest)})`,
        );
      }
    });
  } else {
    list.skip(
      "fwid",
      "Leaf certificate FWID matches the evidence",
      "evidence carries no FWID (opaque field 20)",
    );
  }

  await list.run(
    "spdm_signature",
    "SPDM response signed by the device leaf key (P-384, SHA-384)",
    async () => {
      if (leaf.publicKey.kind !== "ec" || leaf.publicKey.curve !== "P-384") {
        throw new EvidenceInvalidError("nvidia_spdm_signature_invalid", "device leaf key is not ECDSA P-384");
      }
      if (
        !(await verifyEcdsa(
          "P-384",
          "SHA-384",
          leaf.publicKey.point,
          spdm.response.signature,
          spdm.signedBytes,
          verifier.backend,
        ))
      ) {
        throw new EvidenceInvalidError(
          "nvidia_spdm_signature_invalid",
          "SPDM signature does not verify with the device leaf key",
        );
      }
    },
  );

  if (nonce) {
    await list.run("nonce", "Requester nonce equals the expected nonce", () => {
      if (!equalBytes(nonce, spdm.request.nonce)) {
        throw new EvidenceInvalidError(
          "nvidia_nonce_mismatch",
          `evidence nonce ${toHex(spdm.request.nonce)} is not the expected ${toHex(nonce)}`,
        );
      }
    });
  } else {
    list.skip("nonce", "Requester nonce equals the expected nonce", "no expected nonce given");
  }
  return { chain, device };
}

/** OCSP for the device chain (online, and only for a verified chain). Returns whether it was checked. */
async function checkDeviceRevocation(run: NvidiaRun, chain: VerifiedChain | undefined): Promise<boolean> {
  const { options, list } = run;
  if (options.offline) {
    list.skip("device_ocsp", "Device certificates not revoked (OCSP)", "offline");
    return false;
  }
  if (!chain) {
    list.skip("device_ocsp", "Device certificates not revoked (OCSP)", "chain not verified");
    return false;
  }
  const statuses = await list.run("device_ocsp", "Device certificates not revoked (OCSP)", () =>
    checkRevocation(chain.path, {
      now: options.now,
      fetch: run.fetch ?? globalThis.fetch,
      cache: run.cache.ocsp,
      url: options.ocspUrl,
      label: "NVIDIA device",
      backend: run.verifier.backend,
    }),
  );
  return statuses !== undefined;
}

/**
 * The RIMs given, or (online, none given) fetched from the RIM service for this device: each
 * verified (signature, signer chain, revocation) and its version compared with the evidence's.
 */
async function checkRims(
  run: NvidiaRun,
  given: readonly Rim[] | undefined,
  device: NvidiaDeviceIdentity,
): Promise<RimVerificationResult[]> {
  const { options, spdm, list, cache } = run;
  const opaque = spdm.response.opaque;
  const rims: Rim[] = [...(given ?? [])];
  const fetched = new Map<Rim, string>();
  if (given === undefined && !options.offline) {
    const ids = rimIdsFor(spdm, device);
    for (const id of [ids.driver, ids.vbios]) {
      if (!id) continue;
      const hit = cache.rims.get(id);
      const rim =
        hit ?? (await fetchRim(id, { fetch: run.fetch ?? globalThis.fetch, baseUrl: options.rimServiceUrl }));
      if (!hit) fetched.set(rim, id);
      rims.push(rim);
    }
  }
  const results: RimVerificationResult[] = [];
  for (const rim of rims) {
    const result = await verifyRim(rim, {
      now: options.now,
      rimRoots: options.rimRoots ?? run.verifier.roots.nvidiaRim,
      offline: options.offline,
      fetch: run.fetch,
      ocspCache: cache.ocsp,
      signatureCache: cache.signatures,
      backend: run.verifier.backend,
    });
    results.push(result);
    for (const check of result.checks) {
      if (check.status === "pass") list.pass(check.id, check.label, check.detail);
      else if (check.status === "skip") list.skip(check.id, check.label, check.detail ?? "");
      else
        list.fail(check.id, check.label, {
          code: check.code ?? "nvidia_rim_invalid",
          message: check.detail ?? "",
        });
    }
    // A cached RIM is re-verified (chain at `now`, OCSP) on every use; what the cache vouches for is
    // the document's NVIDIA signature, so only RIMs whose signature verified are stored.
    const id = fetched.get(rim);
    if (id && result.checks.some((c) => c.id === "rim_signature" && c.status === "pass"))
      cache.rims.set(id, rim);
    await list.run("rim_version", `RIM ${rim.version}: version matches the evidence`, () => {
      const actual = rim.kind === "driver" ? opaque.driverVersion : opaque.vbiosVersion;
      const same =
        actual !== undefined &&
        (rim.kind === "driver" ? actual === rim.version : actual.toUpperCase() === rim.version.toUpperCase());
      if (!same) {
        throw new EvidenceInvalidError(
          "nvidia_rim_version_mismatch",
          `${rim.kind} RIM is for ${rim.version}, evidence reports ${actual ?? "no version"}`,
        );
      }
    });
  }
  return results;
}

/** Every active RIM measurement against the evidence; the report is kept for a mismatch too. */
async function checkMeasurements(run: NvidiaRun, rims: readonly Rim[]): Promise<MeasurementReport | null> {
  const { list, spdm } = run;
  if (rims.length === 0) {
    list.skip(
      "measurements",
      "Every active RIM measurement matches the evidence",
      run.options.offline ? "no RIMs given (offline)" : "no RIMs",
    );
    return null;
  }
  const report = await list.run(
    "measurements",
    "Every active RIM measurement matches the evidence",
    () => {
      const compared = compareMeasurements(spdm, rims);
      if (compared.mismatched.length > 0) {
        throw new EvidenceInvalidError(
          "nvidia_measurement_mismatch",
          `${compared.mismatched.length} of ${compared.total} measurements differ (RIM indices ${compared.mismatched.join(", ")})`,
          { details: { report: compared } },
        );
      }
      return compared;
    },
    (r) => `${r.matched}/${r.total}`,
  );
  if (report) return report;
  // Keep the report for a mismatch (the error above carries it); a conflict leaves it null.
  return list.errors.some((e) => e.code === "nvidia_measurement_mismatch")
    ? compareMeasurements(spdm, rims)
    : null;
}

/**
 * Verifies one NVIDIA GPU or NVSwitch SPDM evidence blob: the device chain to the pinned Device
 * Identity CA, the FWID binding between the leaf and the evidence, the P-384 signature over the
 * SPDM transcript, the requester nonce, OCSP (online), the RIMs (signature, signer chain, version)
 * and every active measurement, then the policy.
 *
 * Unusable input (evidence or chain that does not parse, a RIM that is not XML, OCSP or RIM
 * service unreachable) throws; everything else is reported in the result.
 * @throws EvidenceParseError, AttestArgumentError, CollateralUnavailableError
 * @example
 * const result = await verifyNvidiaEvidence(bytes, {
 *   certChain: pemText,
 *   rims: [driverRimXml, vbiosRimXml],
 *   nonce: "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb",
 *   now: new Date("2026-06-01T00:00:00Z"),
 *   offline: true,
 * });
 * if (!result.ok) console.log(result.errors);
 */
export async function verifyNvidiaEvidence(
  evidence: Uint8Array | string,
  options: VerifyNvidiaOptions,
): Promise<NvidiaVerificationResult> {
  if (!isVerificationTime(options.now)) {
    throw new AttestArgumentError("nvidia_argument_invalid", "options.now must be a valid Date");
  }
  const policy = parseNvidiaPolicy(options.policy ?? {});
  const verifier = verifierOf(options.verifier);
  const run: NvidiaRun = {
    options,
    verifier,
    cache: { ...verifier.state(NVIDIA_STATE, freshCache), ...verifier.cache.nvidia, ...options.cache },
    fetch: options.fetch ?? verifier.fetch,
    spdm: parseSpdmMeasurements(evidenceBytes(evidence)),
    certs: parseDeviceCertChain(options.certChain),
    nonce: expectedNonce(options.nonce),
    list: new CheckList(),
  };
  const { spdm, list, nonce } = run;
  const rimInputs =
    options.rims &&
    (await Promise.all(
      options.rims.map((r) => (typeof r === "string" || r instanceof Uint8Array ? parseRim(r) : r)),
    ));
  list.pass(
    "spdm_parse",
    "SPDM GET_MEASUREMENTS evidence parses",
    `${spdm.response.numberOfBlocks} blocks${spdm.trailingBytes > 0 ? `, ${spdm.trailingBytes} trailing byte(s) ignored` : ""}`,
  );

  const { chain, device } = await checkDeviceEvidence(run);
  const deviceRevocationChecked = await checkDeviceRevocation(run, chain);
  const rimResults = await checkRims(run, rimInputs, device);
  const rims = rimResults.map((r) => r.rim);
  const measurementDetails = await checkMeasurements(run, rims);

  const opaque = spdm.response.opaque;
  const revocationChecked = deviceRevocationChecked && rimResults.every((r) => r.revocationChecked);
  const verified = !list.failed;
  const measurements = measurementDetails
    ? {
        total: measurementDetails.total,
        matched: measurementDetails.matched,
        mismatched: measurementDetails.mismatched,
      }
    : null;
  const policyViolations = validateNvidiaPolicy(
    {
      architecture: device.architecture,
      kind: device.kind,
      driverVersion: opaque.driverVersion ?? null,
      vbiosVersion: opaque.vbiosVersion ?? null,
      mode: opaque.featureMode ?? null,
      revocationChecked,
      nonceChecked: nonce !== undefined,
      rimKinds: rims.map((r) => r.kind),
      measurements,
    },
    policy,
  );
  const rimsComplete =
    measurements !== null &&
    (device.kind === "switch" ? ["vbios"] : ["driver", "vbios"]).every((k) => rims.some((r) => r.kind === k));
  const unchecked: NvidiaUncheckable[] = [
    ...(nonce === undefined && policy.requireNonce === false ? (["nonce"] as const) : []),
    ...(!rimsComplete && policy.requireRimMatch === false ? (["measurements"] as const) : []),
  ];
  for (const violation of policyViolations)
    list.fail(
      violation.code,
      `Policy: ${violation.code.replace(/^nvidia_policy_/, "").replace(/_/g, " ")}`,
      violation,
    );
  return {
    ok: verified && policyViolations.length === 0,
    verified,
    kind: "nvidia",
    device: chain ? device : null,
    nonce: toHex(spdm.request.nonce),
    driverVersion: opaque.driverVersion ?? null,
    vbiosVersion: opaque.vbiosVersion ?? null,
    mode: opaque.featureMode ?? null,
    revocationChecked,
    measurements,
    measurementDetails,
    rims: rimResults.map((r) => ({
      version: r.rim.version,
      kind: r.rim.kind,
      ok: r.ok,
      revocationChecked: r.revocationChecked,
      signer: r.signer?.subject,
    })),
    evidence: spdm,
    checks: list.checks,
    errors: list.errors,
    policyViolations,
    unchecked,
  };
}
