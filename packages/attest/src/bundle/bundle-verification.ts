import { equalBytes, fromHex, toHex } from "../common/bytes.js";
import { CheckList } from "../common/check.js";
import { AttestArgumentError, EvidenceInvalidError, type VerificationIssue } from "../common/errors.js";
import { lazyModule } from "../common/lazy-module.js";
import { isVerificationTime, type Verifier, verifierOf } from "../common/verifier.js";
import { type Certificate, parseCertificate, toPem } from "../common/x509.js";
import type { NvidiaVerificationResult } from "../nvidia/index.js";
import type { SevSnpProductRoots, SevSnpVerificationResult } from "../sev-snp/index.js";
import type { TdxCollateralInput, TdxVerificationResult } from "../tdx/index.js";
import { type Binding, bindingGpuNonce, bindingReportData, bindingToJson, decodeBinding } from "./binding.js";
import type { AttestationBundle } from "./bundle.js";
import { isDevelopmentCertificate } from "./development-roots.js";
import { type BundlePolicy, parseBundlePolicy, type TdxMeasurementRule } from "./policy.js";
import type { BundleVerificationResult, VerifyBundleOptions } from "./verify-bundle.js";

/**
 * Each kind's verifier is loaded when a bundle carries that kind of evidence: a TDX + H100 bundle
 * never loads the SEV-SNP code.
 */
const loadTdx = lazyModule(() => import("../tdx/verify.js"));
const loadSevSnp = lazyModule(() => import("../sev-snp/verify.js"));
const loadNvidia = lazyModule(() => import("../nvidia/verify.js"));

const LABEL = {
  roots: "Trust roots (vendor roots, or development roots only if the policy allows simulation)",
  cpu_kind: "CPU TEE kind allowed by the policy",
  cpu_evidence_kind: "CPU evidence is of the kind the bundle declares",
  cpu: "CPU evidence verified",
  cpu_policy: "CPU evidence meets the CPU policy",
  report_data: "CPU report_data = SHA-512(binding)",
  gpu_count: "Required GPUs attested",
  gpu: "GPU evidence verified",
  gpu_policy: "GPU evidence meets the GPU policy",
  gpu_nonce: "GPU nonce = SHA-256(binding)",
  gpu_distinct: "Each GPU is a distinct device",
  issued_at: "Binding fresh (issued-at within the policy's maximum age)",
  client_nonce: "Client nonce in the binding",
  model: "Model allowed by the policy",
  weights: "Weights digest allowed for the model",
  measurements: "Launch measurements allowed for the model",
} as const;

interface DevRoots {
  readonly tdx?: Certificate[];
  readonly sevSnp?: Partial<Record<"milan" | "genoa" | "turin", SevSnpProductRoots>>;
  readonly nvidia?: Certificate[];
}

function parseDevRoots(bundle: AttestationBundle): DevRoots {
  const roots = bundle.developmentRoots ?? {};
  const parse = (list: readonly Uint8Array[] | undefined, what: string) =>
    list?.map((der) => {
      const cert = parseCertificate(der);
      if (!isDevelopmentCertificate(cert)) {
        throw new EvidenceInvalidError(
          "bundle_development_root_unmarked",
          `${what} development root "${cert.subject}" lacks the development marker in its subject`,
        );
      }
      return cert;
    });
  const tdx = parse(roots.tdx, "TDX");
  const nvidia = parse(roots.nvidia, "NVIDIA");
  const snp = parse(roots.sevSnp, "SEV-SNP");
  let sevSnp: DevRoots["sevSnp"];
  if (snp) {
    const ark = snp.find((c) => c.subject === c.issuer);
    const ask = snp.find((c) => c.subject !== c.issuer);
    if (!ark || !ask)
      throw new EvidenceInvalidError(
        "bundle_development_root_unmarked",
        "SEV-SNP development roots must be an ARK and an ASK",
      );
    const product: SevSnpProductRoots = { ark: toPem(ark.der), ask: toPem(ask.der), asvk: toPem(ask.der) };
    sevSnp = { milan: product, genoa: product, turin: product };
  }
  return { ...(tdx ? { tdx } : {}), ...(sevSnp ? { sevSnp } : {}), ...(nvidia ? { nvidia } : {}) };
}

/** The distinct codes of a list of issues, for one-line messages. */
function unique(issues: readonly VerificationIssue[]): string {
  return [...new Set(issues.map((e) => e.code))].join(", ");
}

function matchesTdx(rule: TdxMeasurementRule, cpu: TdxVerificationResult): boolean {
  const facts: Record<keyof TdxMeasurementRule, string | null> = {
    mrTd: cpu.mrTd,
    rtmr0: cpu.rtmr0,
    rtmr1: cpu.rtmr1,
    rtmr2: cpu.rtmr2,
    rtmr3: cpu.rtmr3,
    mrConfigId: cpu.mrConfigId,
  };
  return Object.entries(rule).every(([key, value]) => facts[key as keyof TdxMeasurementRule] === value);
}

/**
 * The body of {@link verifyBundle}, loaded on its first call: it is what needs asn1js (certificates)
 * and the verifier state, so importing `@peercycles/attest/bundle` to decode bundles, parse policies or
 * check receipts loads neither.
 */
export async function runBundleVerification(
  bundle: AttestationBundle,
  options: VerifyBundleOptions,
): Promise<BundleVerificationResult> {
  if (typeof options !== "object" || options === null || !isVerificationTime(options.now)) {
    throw new AttestArgumentError("bundle_now_required", "verifyBundle needs options.now (a valid Date)");
  }
  if (options.policy === undefined)
    throw new AttestArgumentError("bundle_policy_required", "verifyBundle needs options.policy");
  const policy = parseBundlePolicy(options.policy);
  const verifier = verifierOf(options.verifier);
  const now = options.now;
  // No vendor service (Intel PCS, AMD KDS, NVIDIA OCSP/RIM) knows development certificates, so
  // simulated evidence is always verified offline, from what the bundle carries.
  const offline = bundle.developmentRoots !== undefined ? true : options.offline;
  const binding = decodeBinding(bundle.binding);
  const reportData = bindingReportData(bundle.binding);
  const gpuNonce = bindingGpuNonce(bundle.binding);
  const list = new CheckList();
  const violations: VerificationIssue[] = [];
  const violate = (id: string, label: string, issue: VerificationIssue) => {
    list.fail(id, label, issue);
    violations.push(issue);
  };

  const simulated = bundle.developmentRoots !== undefined;
  const run: BundleRun = {
    bundle,
    options,
    policy,
    verifier,
    now,
    offline,
    simulated,
    devRoots: {},
    list,
    violate,
  };
  await checkRoots(run);
  const cpu = await verifyCpu(run, reportData);
  const gpus = await verifyGpus(run, gpuNonce);
  checkBinding(run, binding, cpu);
  const cpuErrors = cpu.errors;

  const bindingFailed = list.errors.some((e) =>
    [
      "bundle_report_data_mismatch",
      "bundle_gpu_nonce_mismatch",
      "bundle_gpu_duplicate",
      "bundle_development_root_unmarked",
    ].includes(e.code),
  );
  const verified =
    cpu.verified && gpus.every((g) => g.verified) && !bindingFailed && !(simulated && !policy.allowSimulated);
  const subPolicy = [
    ...(cpu.verified && !cpu.ok ? cpuErrors : []),
    ...gpus.flatMap((g) => (g.verified ? g.policyViolations : [])),
  ];
  const errors: VerificationIssue[] = [...list.errors];
  for (const issue of [...cpuErrors, ...gpus.flatMap((g) => g.errors)]) {
    if (!errors.some((e) => e.code === issue.code && e.message === issue.message)) errors.push(issue);
  }
  return {
    ok: verified && !list.failed,
    verified,
    kind: "bundle",
    simulated,
    cpu,
    gpus,
    binding: bindingToJson(bundle.binding, binding),
    decodedBinding: binding,
    checks: list.checks,
    errors,
    policyViolations: [...violations, ...subPolicy],
  };
}

/** What the steps of {@link runBundleVerification} share. */
interface BundleRun {
  readonly bundle: AttestationBundle;
  readonly options: VerifyBundleOptions;
  readonly policy: BundlePolicy;
  readonly verifier: Verifier;
  readonly now: Date;
  readonly offline: boolean | undefined;
  readonly simulated: boolean;
  /** Set by the roots step when the bundle's development roots are accepted. */
  devRoots: DevRoots;
  readonly list: CheckList;
  readonly violate: (id: string, label: string, issue: VerificationIssue) => void;
}

/** Step 1: the roots. Development roots only when the policy allows simulation. */
async function checkRoots(run: BundleRun): Promise<void> {
  const { bundle, policy, simulated, list, violate } = run;
  // 1. Roots. Development roots are used only when the policy allows simulation; otherwise the
  // verifiers run with their pinned vendor roots (and reject simulated evidence on their own).
  if (!simulated) list.pass("roots", LABEL.roots, "pinned vendor roots");
  else if (!policy.allowSimulated) {
    violate("roots", LABEL.roots, {
      code: "bundle_simulated_not_allowed",
      message:
        "the bundle rests on development roots (simulated TEE) and the policy does not set allowSimulated",
    });
  } else {
    const parsed = await list.run(
      "roots",
      LABEL.roots,
      () => parseDevRoots(bundle),
      () => "DEVELOPMENT roots (simulated TEE; allowSimulated)",
    );
    if (parsed) run.devRoots = parsed;
  }
}

/** Step 2: the CPU evidence, by its kind's verifier, and its report_data against the binding. */
async function verifyCpu(run: BundleRun, reportData: Uint8Array): Promise<BundleVerificationResult["cpu"]> {
  const { bundle, options, policy, verifier, now, offline, simulated, devRoots, list, violate } = run;
  // 2. CPU evidence.
  if (!policy.cpu.kinds.includes(bundle.cpu.kind)) {
    violate("cpu_kind", LABEL.cpu_kind, {
      code: "bundle_cpu_kind_not_allowed",
      message: `CPU TEE ${bundle.cpu.kind} is not in the policy's ${policy.cpu.kinds.join(", ")}`,
    });
  } else list.pass("cpu_kind", LABEL.cpu_kind, bundle.cpu.kind);
  let cpu: BundleVerificationResult["cpu"];
  let cpuReportData: string;
  if (bundle.cpu.kind === "tdx") {
    const collateral = bundle.cpu.collateral ?? options.collateral?.tdx;
    const { verifyTdxQuote } = await loadTdx();
    const result = await verifyTdxQuote(bundle.cpu.evidence, {
      now,
      ...(collateral !== undefined ? { collateral: collateral as TdxCollateralInput } : {}),
      ...(policy.cpu.tdx !== undefined ? { policy: policy.cpu.tdx } : {}),
      ...(offline !== undefined ? { offline } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      verifier,
      ...(simulated && devRoots.tdx ? { roots: devRoots.tdx } : {}),
    });
    cpu = result;
    cpuReportData = result.reportData;
    // A DCAP quote can also be an SGX enclave quote; a bundle that says TDX must carry a TD quote.
    if (result.kind !== "tdx") {
      list.fail("cpu_evidence_kind", LABEL.cpu_evidence_kind, {
        code: "bundle_cpu_evidence_kind_mismatch",
        message: `the bundle says tdx but the quote is an ${result.teeType} quote`,
      });
    }
  } else {
    const [vcek, ...chain] = bundle.cpu.certificates;
    const crl = bundle.cpu.collateral?.crl ?? options.collateral?.sevSnpCrl;
    const { verifySevSnpReport } = await loadSevSnp();
    const result = await verifySevSnpReport(bundle.cpu.evidence, {
      now,
      ...(vcek ? { vcek } : {}),
      ...(chain.length > 0 ? { chain } : {}),
      ...(crl instanceof Uint8Array ? { crl } : {}),
      ...(policy.cpu.sevSnp !== undefined ? { policy: policy.cpu.sevSnp } : {}),
      ...(offline !== undefined ? { offline } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      verifier,
      ...(simulated && devRoots.sevSnp ? { roots: devRoots.sevSnp } : {}),
    });
    cpu = result;
    cpuReportData = result.reportData;
  }
  const cpuErrors = cpu.errors;
  if (cpu.verified)
    list.pass(
      "cpu",
      LABEL.cpu,
      `${bundle.cpu.kind}: ${cpu.checks.filter((c) => c.status === "pass").length} checks passed`,
    );
  else {
    list.fail("cpu", LABEL.cpu, {
      code: "bundle_cpu_evidence_invalid",
      message: `${bundle.cpu.kind} evidence did not verify: ${unique(cpuErrors)}`,
    });
  }
  if (cpu.verified) {
    if (cpu.ok) list.pass("cpu_policy", LABEL.cpu_policy);
    else {
      violate("cpu_policy", LABEL.cpu_policy, {
        code: "bundle_cpu_policy_violation",
        message: `CPU policy not met: ${unique(cpuErrors)}`,
      });
    }
  } else list.skip("cpu_policy", LABEL.cpu_policy, "the CPU evidence did not verify");
  await list.run("report_data", LABEL.report_data, () => {
    if (cpuReportData !== toHex(reportData)) {
      throw new EvidenceInvalidError(
        "bundle_report_data_mismatch",
        `the CPU evidence carries report_data ${cpuReportData}, but SHA-512(binding) is ${toHex(reportData)}: the evidence is not for this binding`,
      );
    }
  });
  return cpu;
}

/** Step 3: every GPU's evidence, its nonce against the binding, no GPU counted twice. */
async function verifyGpus(run: BundleRun, gpuNonce: Uint8Array): Promise<NvidiaVerificationResult[]> {
  const { bundle, options, policy, verifier, now, offline, simulated, devRoots, list, violate } = run;
  // 3. GPU evidence.
  if (bundle.gpus.length < policy.gpu.minCount) {
    violate("gpu_count", LABEL.gpu_count, {
      code: "bundle_gpu_required",
      message: `the policy requires at least ${policy.gpu.minCount} attested GPU(s); the bundle has ${bundle.gpus.length}`,
    });
  } else list.pass("gpu_count", LABEL.gpu_count, `${bundle.gpus.length} GPU(s)`);
  const gpus: NvidiaVerificationResult[] = [];
  for (const [i, gpu] of bundle.gpus.entries()) {
    const { verifyNvidiaEvidence } = await loadNvidia();
    const result = await verifyNvidiaEvidence(gpu.evidence, {
      certChain: gpu.certificates.map(parseCertificate),
      ...(gpu.rims ? { rims: [...gpu.rims] } : {}),
      nonce: gpuNonce,
      now,
      // Simulated GPUs have no RIMs (NVIDIA signs RIMs): measurements of simulated evidence are
      // accepted unchecked, by name, and echoed in the GPU result's `unchecked`. Real GPUs follow
      // the NVIDIA verifier's strict default unless `gpu.nvidia` says otherwise.
      ...(simulated
        ? { policy: { requireRimMatch: false, ...policy.gpu.nvidia } }
        : policy.gpu.nvidia !== undefined
          ? { policy: policy.gpu.nvidia }
          : {}),
      ...(offline !== undefined ? { offline } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      verifier,
      ...(simulated && devRoots.nvidia ? { roots: devRoots.nvidia } : {}),
    });
    gpus.push(result);
    const label = `${LABEL.gpu} (GPU ${i})`;
    if (result.verified)
      list.pass(
        `gpu_${i}`,
        label,
        `${result.device?.leaf ?? "device"}, driver ${result.driverVersion ?? "?"}`,
      );
    else {
      list.fail(`gpu_${i}`, label, {
        code: "bundle_gpu_evidence_invalid",
        message: `GPU ${i} evidence did not verify: ${unique(result.errors)}`,
      });
    }
    if (!result.verified)
      list.skip(`gpu_${i}_policy`, `${LABEL.gpu_policy} (GPU ${i})`, "the GPU evidence did not verify");
    else if (result.ok) list.pass(`gpu_${i}_policy`, `${LABEL.gpu_policy} (GPU ${i})`);
    else {
      violate(`gpu_${i}_policy`, `${LABEL.gpu_policy} (GPU ${i})`, {
        code: "bundle_gpu_policy_violation",
        message: `GPU ${i} policy not met: ${unique(result.policyViolations)}`,
      });
    }
    await list.run(`gpu_${i}_nonce`, `${LABEL.gpu_nonce} (GPU ${i})`, () => {
      if (result.nonce !== toHex(gpuNonce)) {
        throw new EvidenceInvalidError(
          "bundle_gpu_nonce_mismatch",
          `GPU ${i} evidence answers nonce ${result.nonce}, but SHA-256(binding) is ${toHex(gpuNonce)}: the evidence is not for this binding`,
        );
      }
    });
  }
  if (bundle.gpus.length > 1) {
    await list.run("gpu_distinct", LABEL.gpu_distinct, () => {
      // A device is what its leaf certificate signs for (leaf key, UEID = serial), not the
      // certificate's bytes: the envelope and the ECDSA signature (r, n − s) can be re-encoded, so a
      // re-encoded copy of one GPU's leaf must not count as a second GPU.
      const seen = new Map<string, number>();
      bundle.gpus.forEach((gpu, i) => {
        const identity = gpus[i]?.device;
        let ids: string[];
        if (identity) ids = [`key:${identity.publicKey}`, `ueid:${identity.ueid}`];
        else {
          try {
            const leaf = parseCertificate(gpu.certificates[0] ?? new Uint8Array());
            ids = [`key:${toHex(leaf.publicKey.spki)}`, `serial:${leaf.issuer}:${leaf.serialNumber}`];
          } catch {
            ids = [`bytes:${toHex(gpu.certificates[0] ?? new Uint8Array())}`];
          }
        }
        const first = ids.map((id) => seen.get(id)).find((at) => at !== undefined);
        if (first !== undefined) {
          throw new EvidenceInvalidError(
            "bundle_gpu_duplicate",
            `GPU ${i} is the same device as GPU ${first} (same leaf key or UEID): one GPU counted twice`,
          );
        }
        for (const id of ids) seen.set(id, i);
      });
    });
  }
  return gpus;
}

/** Step 4: the binding against the policy: freshness, client nonce, model, weights, measurements. */
function checkBinding(run: BundleRun, binding: Binding, cpu: BundleVerificationResult["cpu"]): void {
  const { bundle, options, policy, now, list, violate } = run;
  // 4. Binding policy: freshness, client nonce, model, weights, measurements.
  const age = Math.floor(now.getTime() / 1000) - binding.issuedAt;
  if (age > policy.maxAgeSeconds) {
    violate("issued_at", LABEL.issued_at, {
      code: "bundle_stale",
      message: `the binding was issued ${age} s before now; the policy allows ${policy.maxAgeSeconds} s`,
    });
  } else if (-age > policy.maxClockSkewSeconds) {
    violate("issued_at", LABEL.issued_at, {
      code: "bundle_issued_in_future",
      message: `the binding is issued ${-age} s after now; the policy tolerates ${policy.maxClockSkewSeconds} s of clock skew`,
    });
  } else list.pass("issued_at", LABEL.issued_at, `${age} s old (max ${policy.maxAgeSeconds} s)`);

  const expectedNonce =
    options.clientNonce !== undefined
      ? typeof options.clientNonce === "string"
        ? fromHex(options.clientNonce)
        : options.clientNonce
      : policy.clientNonce !== undefined
        ? fromHex(policy.clientNonce)
        : undefined;
  if (!expectedNonce) list.skip("client_nonce", LABEL.client_nonce, "no client nonce expected");
  else if (!binding.clientNonce) {
    violate("client_nonce", LABEL.client_nonce, {
      code: "bundle_client_nonce_missing",
      message: `the binding carries no client nonce; expected ${toHex(expectedNonce)}`,
    });
  } else if (!equalBytes(binding.clientNonce, expectedNonce)) {
    violate("client_nonce", LABEL.client_nonce, {
      code: "bundle_client_nonce_mismatch",
      message: `the binding carries client nonce ${toHex(binding.clientNonce)}, expected ${toHex(expectedNonce)} (replayed or for another request)`,
    });
  } else list.pass("client_nonce", LABEL.client_nonce, toHex(expectedNonce));

  const model = policy.models[binding.model];
  if (!model) {
    violate("model", LABEL.model, {
      code: "bundle_model_not_allowed",
      message: `model "${binding.model}" is not in the policy (allowed: ${Object.keys(policy.models).join(", ") || "none"})`,
    });
    list.skip("weights", LABEL.weights, "model not allowed");
    list.skip("measurements", LABEL.measurements, "model not allowed");
  } else {
    list.pass("model", LABEL.model, binding.model);
    const digest = toHex(binding.weightsDigest);
    if (model.weightsDigests.includes(digest)) list.pass("weights", LABEL.weights, digest);
    else {
      violate("weights", LABEL.weights, {
        code: "bundle_weights_digest_not_allowed",
        message: `weights digest ${digest} is not allowed for model "${binding.model}"`,
      });
    }
    if (!cpu.verified) list.skip("measurements", LABEL.measurements, "the CPU evidence did not verify");
    else if (bundle.cpu.kind === "tdx") {
      const tdx = cpu as TdxVerificationResult;
      const rules = model.tdx ?? [];
      if (rules.some((rule) => matchesTdx(rule, tdx)))
        list.pass("measurements", LABEL.measurements, `MRTD ${tdx.mrTd}`);
      else {
        violate("measurements", LABEL.measurements, {
          code: "bundle_measurement_not_allowed",
          message:
            rules.length === 0
              ? `the policy lists no TDX measurements for model "${binding.model}"`
              : `MRTD/RTMRs (MRTD ${tdx.mrTd}) match none of the ${rules.length} allowed set(s) for model "${binding.model}"`,
        });
      }
    } else {
      const snp = cpu as SevSnpVerificationResult;
      const rules = model.sevSnp ?? [];
      if (
        rules.some(
          (rule) =>
            rule.measurement === snp.measurement &&
            (rule.hostData === undefined || rule.hostData === snp.hostData),
        )
      ) {
        list.pass("measurements", LABEL.measurements, `measurement ${snp.measurement}`);
      } else {
        violate("measurements", LABEL.measurements, {
          code: "bundle_measurement_not_allowed",
          message:
            rules.length === 0
              ? `the policy lists no SEV-SNP measurements for model "${binding.model}"`
              : `launch measurement ${snp.measurement} matches none of the ${rules.length} allowed for model "${binding.model}"`,
        });
      }
    }
  }
}
