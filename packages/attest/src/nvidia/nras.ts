import type { JSONWebKeySet, JWTPayload, ProtectedHeaderParameters } from "jose";
import { fromBase64, toHex } from "../common/bytes.js";
import { type Check, CheckList } from "../common/check.js";
import {
  CollateralUnavailableError,
  EvidenceInvalidError,
  EvidenceParseError,
  type VerificationIssue,
} from "../common/errors.js";
import { lazyModule } from "../common/lazy-module.js";
import { sha256Digest } from "../common/signatures.js";

/** jose is loaded by the first signature check, never at import (parsing a token needs none of it). */
const loadJose = lazyModule(() => import("jose"));

/**
 * NRAS (NVIDIA Remote Attestation Service) answers with a *detached EAT*:
 * `[["JWT", <overall token>], {"GPU-0": <device token>, …}]`. The overall token's `submods` claim
 * binds each device token by digest: `{"GPU-0": ["DIGEST", ["SHA-256", <hex of SHA-256(token)>]]}`.
 */
export const NRAS_ISSUER = "https://nras.attestation.nvidia.com";
export const NRAS_JWKS_URL = "https://nras.attestation.nvidia.com/.well-known/jwks.json";

/** A JWT split into its parts (not yet verified). */
export interface DecodedJwt {
  readonly jwt: string;
  readonly header: ProtectedHeaderParameters;
  readonly claims: JWTPayload & Record<string, unknown>;
}

/** A parsed detached EAT. */
export interface NrasToken {
  readonly overall: DecodedJwt;
  readonly submodules: Readonly<Record<string, DecodedJwt>>;
}

/** One base64url JWS segment as a JSON object (what jose's decodeJwt / decodeProtectedHeader accept). */
function segmentObject(segment: string, what: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]*$/.test(segment)) throw new Error(`${what} is not base64url`);
  const value: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(fromBase64(segment)));
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new Error(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function decode(jwt: unknown, what: string): DecodedJwt {
  if (typeof jwt !== "string")
    throw new EvidenceParseError("nvidia_nras_token_malformed", `${what} is not a JWT string`);
  try {
    const parts = jwt.split(".");
    if (parts.length !== 3) throw new Error("a JWS in compact form has three parts");
    return {
      jwt,
      header: segmentObject(parts[0]!, "protected header") as ProtectedHeaderParameters,
      claims: segmentObject(parts[1]!, "payload") as JWTPayload & Record<string, unknown>,
    };
  } catch (cause) {
    throw new EvidenceParseError(
      "nvidia_nras_token_malformed",
      `${what} is not a valid JWT: ${(cause as Error).message}`,
      { cause },
    );
  }
}

/**
 * Parses a detached EAT (JSON text or the parsed array).
 * @throws EvidenceParseError `nvidia_nras_token_malformed`
 * @example
 * const token = parseNrasToken(readFileSync("detached_eat.json", "utf8"));
 * token.submodules["GPU-0"].claims.measres; // "success"
 */
export function parseNrasToken(input: string | unknown): NrasToken {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch (cause) {
      throw new EvidenceParseError("nvidia_nras_token_malformed", "detached EAT is not JSON", { cause });
    }
  }
  if (!Array.isArray(value) || value.length !== 2 || !Array.isArray(value[0]) || value[0][0] !== "JWT") {
    throw new EvidenceParseError(
      "nvidia_nras_token_malformed",
      'detached EAT must be [["JWT", token], { name: token }]',
    );
  }
  const map = value[1];
  if (typeof map !== "object" || map === null || Array.isArray(map)) {
    throw new EvidenceParseError(
      "nvidia_nras_token_malformed",
      "detached EAT submodule map is not an object",
    );
  }
  const submodules: Record<string, DecodedJwt> = {};
  for (const [name, jwt] of Object.entries(map)) submodules[name] = decode(jwt, `submodule ${name}`);
  return { overall: decode(value[0][1], "overall token"), submodules };
}

/** The claims a relying party reads from one device token. */
export interface NrasDeviceClaims {
  readonly name: string;
  readonly measres: string | undefined;
  readonly secboot: boolean | undefined;
  readonly dbgstat: string | undefined;
  readonly nonce: string | undefined;
  readonly driverVersion: string | undefined;
  readonly vbiosVersion: string | undefined;
  readonly hwmodel: string | undefined;
  readonly ueid: string | undefined;
  readonly claims: Readonly<Record<string, unknown>>;
}

export interface NrasVerificationResult {
  readonly ok: boolean;
  readonly verified: boolean;
  readonly signatureChecked: boolean;
  readonly overallResult: boolean | undefined;
  readonly nonce: string | undefined;
  readonly devices: readonly NrasDeviceClaims[];
  readonly checks: readonly Check[];
  readonly errors: readonly VerificationIssue[];
}

/** JWKS documents by URL with the time they were fetched (the verifier's `now`). */
export class JwksCache {
  private readonly entries = new Map<string, { jwks: JSONWebKeySet; at: number }>();
  constructor(private readonly ttlSeconds = 3600) {}
  get(url: string, now: Date): JSONWebKeySet | undefined {
    const hit = this.entries.get(url);
    if (!hit || now.getTime() - hit.at > this.ttlSeconds * 1000 || now.getTime() < hit.at) return undefined;
    return hit.jwks;
  }
  set(url: string, jwks: JSONWebKeySet, now: Date): void {
    if (this.entries.size >= 16) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(url, { jwks, at: now.getTime() });
  }
}
const defaultJwksCache = new JwksCache();

export interface VerifyNrasOptions {
  readonly now: Date;
  /** JWKS to verify with (offline). When absent and online, fetched from `jwksUrl`. */
  readonly jwks?: JSONWebKeySet;
  readonly jwksUrl?: string;
  readonly fetch?: typeof fetch;
  readonly offline?: boolean;
  readonly cache?: JwksCache;
  /** Expected `eat_nonce` (hex). */
  readonly nonce?: string;
  /** Expected issuer (default production NRAS). */
  readonly issuer?: string;
  /** Seconds of clock skew tolerated on nbf/exp (default 0). */
  readonly clockToleranceSeconds?: number;
}

async function loadJwks(options: VerifyNrasOptions): Promise<JSONWebKeySet | undefined> {
  if (options.jwks) return options.jwks;
  if (options.offline) return undefined;
  const url = options.jwksUrl ?? NRAS_JWKS_URL;
  const cache = options.cache ?? defaultJwksCache;
  const hit = cache.get(url, options.now);
  if (hit) return hit;
  let jwks: JSONWebKeySet;
  try {
    const response = await (options.fetch ?? globalThis.fetch)(url, {
      headers: { accept: "application/json" },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    jwks = (await response.json()) as JSONWebKeySet;
    if (!Array.isArray(jwks?.keys)) throw new Error("not a JWKS");
  } catch (cause) {
    throw new CollateralUnavailableError(
      "nvidia_nras_jwks_unavailable",
      `NRAS JWKS could not be fetched from ${url}: ${(cause as Error).message}`,
      { cause },
    );
  }
  cache.set(url, jwks, options.now);
  return jwks;
}

function checkTimes(token: DecodedJwt, what: string, now: Date, tolerance: number): void {
  const t = Math.floor(now.getTime() / 1000);
  const { nbf, exp } = token.claims;
  if (typeof exp !== "number" || typeof nbf !== "number")
    throw new EvidenceInvalidError("nvidia_nras_token_malformed", `${what} lacks nbf/exp`);
  if (t + tolerance < nbf)
    throw new EvidenceInvalidError(
      "nvidia_nras_token_not_yet_valid",
      `${what} is not valid before ${new Date(nbf * 1000).toISOString()}`,
    );
  if (t - tolerance > exp)
    throw new EvidenceInvalidError(
      "nvidia_nras_token_expired",
      `${what} expired at ${new Date(exp * 1000).toISOString()}`,
    );
}

const str = (v: unknown) => (typeof v === "string" ? v : undefined);

/**
 * Verifies a detached EAT from NRAS: the submodule digests, every token's ES384 signature against
 * the JWKS (`jose`), issuer, time window, nonce and overall result, and exposes the device claims.
 * Without a JWKS in offline mode the signatures cannot be checked: the result is then not verified
 * (`nvidia_nras_signature_unchecked`).
 * @throws CollateralUnavailableError `nvidia_nras_jwks_unavailable`
 * @example
 * const result = await verifyNrasToken(token, { now, jwks, nonce: "931d8dd0…" });
 * result.devices[0].measres; // "success"
 */
export async function verifyNrasToken(
  input: NrasToken | string | unknown,
  options: VerifyNrasOptions,
): Promise<NrasVerificationResult> {
  const token =
    typeof input === "object" && input !== null && "overall" in input
      ? (input as NrasToken)
      : parseNrasToken(input);
  const list = new CheckList();
  const tolerance = options.clockToleranceSeconds ?? 0;
  const all: [string, DecodedJwt][] = [
    ["overall token", token.overall],
    ...Object.entries(token.submodules).map(([n, t]) => [`submodule ${n}`, t] as [string, DecodedJwt]),
  ];

  await list.run("nras_submods", "Submodule tokens match the overall token's digests", async () => {
    const submods = token.overall.claims.submods;
    if (typeof submods !== "object" || submods === null)
      throw new EvidenceInvalidError("nvidia_nras_submods_mismatch", "overall token has no submods claim");
    const names = new Set([...Object.keys(submods), ...Object.keys(token.submodules)]);
    for (const name of names) {
      const entry = (submods as Record<string, unknown>)[name];
      const sub = token.submodules[name];
      if (
        !sub ||
        !Array.isArray(entry) ||
        entry[0] !== "DIGEST" ||
        !Array.isArray(entry[1]) ||
        entry[1][0] !== "SHA-256"
      ) {
        throw new EvidenceInvalidError(
          "nvidia_nras_submods_mismatch",
          `submodule ${name} is missing or has no SHA-256 digest`,
        );
      }
      const digest = toHex(await sha256Digest([new TextEncoder().encode(sub.jwt)]));
      if (digest !== String(entry[1][1]).toLowerCase()) {
        throw new EvidenceInvalidError(
          "nvidia_nras_submods_mismatch",
          `submodule ${name} does not match its digest in the overall token`,
        );
      }
    }
  });

  const jwks = await loadJwks(options);
  let signatureChecked = false;
  if (jwks) {
    const { compactVerify, createLocalJWKSet } = await loadJose();
    const keys = createLocalJWKSet(jwks);
    const ok = await list.run("nras_signature", "Every token is signed by an NRAS key (ES384)", async () => {
      for (const [what, t] of all) {
        try {
          await compactVerify(t.jwt, keys, { algorithms: ["ES384"] });
        } catch (cause) {
          throw new EvidenceInvalidError(
            "nvidia_nras_signature_invalid",
            `${what} signature does not verify: ${(cause as Error).message}`,
            { cause },
          );
        }
      }
      return true;
    });
    signatureChecked = ok !== undefined;
  } else {
    list.fail("nras_signature", "Every token is signed by an NRAS key (ES384)", {
      code: "nvidia_nras_signature_unchecked",
      message: "no JWKS supplied in offline mode: token signatures were not checked",
    });
  }

  await list.run("nras_issuer", "Tokens issued by NRAS", () => {
    const expected = options.issuer ?? NRAS_ISSUER;
    for (const [what, t] of all) {
      if (t.claims.iss !== expected)
        throw new EvidenceInvalidError(
          "nvidia_nras_issuer_invalid",
          `${what} issuer ${String(t.claims.iss)} is not ${expected}`,
        );
    }
  });
  await list.run("nras_time", "Tokens valid at the verification time", () => {
    for (const [what, t] of all) checkTimes(t, what, options.now, tolerance);
  });
  const nonce = str(token.overall.claims.eat_nonce);
  if (options.nonce !== undefined) {
    const expected = options.nonce.toLowerCase().replace(/^0x/, "");
    await list.run("nras_nonce", "Token nonce equals the expected nonce", () => {
      for (const [what, t] of all) {
        if (str(t.claims.eat_nonce)?.toLowerCase() !== expected)
          throw new EvidenceInvalidError(
            "nvidia_nras_nonce_mismatch",
            `${what} nonce is not the expected one`,
          );
      }
    });
  } else {
    list.skip("nras_nonce", "Token nonce equals the expected nonce", "no expected nonce given");
  }
  const overallResult = token.overall.claims["x-nvidia-overall-att-result"];
  await list.run("nras_result", "NRAS overall attestation result is true", () => {
    if (overallResult !== true)
      throw new EvidenceInvalidError(
        "nvidia_nras_attestation_failed",
        "x-nvidia-overall-att-result is not true",
      );
  });

  const devices: NrasDeviceClaims[] = Object.entries(token.submodules).map(([name, t]) => ({
    name,
    measres: str(t.claims.measres),
    secboot: typeof t.claims.secboot === "boolean" ? t.claims.secboot : undefined,
    dbgstat: str(t.claims.dbgstat),
    nonce: str(t.claims.eat_nonce),
    driverVersion: str(t.claims["x-nvidia-gpu-driver-version"]),
    vbiosVersion: str(t.claims["x-nvidia-gpu-vbios-version"] ?? t.claims["x-nvidia-switch-bios-version"]),
    hwmodel: str(t.claims.hwmodel),
    ueid: str(t.claims.ueid),
    claims: t.claims,
  }));
  const verified = !list.failed;
  return {
    ok: verified,
    verified,
    signatureChecked,
    overallResult: typeof overallResult === "boolean" ? overallResult : undefined,
    nonce,
    devices,
    checks: list.checks,
    errors: list.errors,
  };
}
