import { fromHex } from "@peercycles/attest";
import { DEVELOPMENT_ROOT_MARKER } from "@peercycles/attest/bundle";
import { SEV_SNP_REPORT_LAYOUT, SEV_SNP_REPORT_SIZE } from "@peercycles/attest/sev-snp";
import { der } from "./asn1.js";
import {
  generateEcKeys,
  generateRsaPssKeys,
  type Issuer,
  issueCertificate,
  issueCrl,
  issueIntermediate,
  issueRoot,
  signEcdsa,
} from "./dev-pki.js";
import { SIMULATED_MEASUREMENTS } from "./simulated-measurements.js";

/**
 * Simulated AMD SEV-SNP on a Genoa part: a development ARK and ASK (RSA-PSS, SHA-384, as AMD's),
 * a VCEK (P-384) with AMD's extensions (struct version, product name, bootloader/TEE/SNP/microcode
 * SPLs, hwID), and version 3 attestation reports (1184 bytes) signed by the VCEK.
 */

const AMD = "1.3.6.1.4.1.3704.1";
const O = ["O", DEVELOPMENT_ROOT_MARKER] as const;

/** The TCB the simulated platform runs and its VCEK certifies. */
export const SIMULATED_SNP_TCB = { bootloader: 9, tee: 0, snp: 23, microcode: 72 } as const;

/** The SEV-SNP development PKI: ARK, ASK, VCEK and the chip it certifies. */
export interface SevSnpDevelopmentPki {
  readonly ark: Issuer;
  readonly ask: Issuer;
  readonly vcek: { readonly keys: CryptoKeyPair; readonly der: Uint8Array };
  /** The chip id the VCEK certifies (64 bytes). */
  readonly chipId: Uint8Array;
  /** ARK-signed CRL (as AMD KDS serves at /vcek/v1/{product}/crl), current for 30 days. */
  readonly crl: Uint8Array;
}

function tcbValue(): bigint {
  const t = SIMULATED_SNP_TCB;
  // Milan/Genoa TCB_VERSION layout: byte 0 bootloader, 1 TEE, 6 SNP, 7 microcode.
  return BigInt(t.bootloader) | (BigInt(t.tee) << 8n) | (BigInt(t.snp) << 48n) | (BigInt(t.microcode) << 56n);
}

/** Creates the SEV-SNP development PKI (valid from `now` − 1 day for 5 years). */
export async function createSevSnpPki(now: Date): Promise<SevSnpDevelopmentPki> {
  const day = 86_400_000;
  const notBefore = new Date(now.getTime() - day);
  const notAfter = new Date(now.getTime() + 5 * 365 * day);
  const amdName = (cn: string) => [["CN", cn], O, ["OU", "Engineering"], ["C", "US"]] as const;
  const [arkKeys, askKeys, vcekKeys] = await Promise.all([
    generateRsaPssKeys(),
    generateRsaPssKeys(),
    generateEcKeys("P-384"),
  ]);
  const ark = await issueRoot(amdName("ARK-Genoa"), arkKeys, "SHA-384", notBefore, notAfter);
  const ask = await issueIntermediate(ark, amdName("SEV-Genoa"), askKeys, "SHA-384", notBefore, notAfter);
  const chipId = crypto.getRandomValues(new Uint8Array(64));
  const t = SIMULATED_SNP_TCB;
  const vcekDer = await issueCertificate({
    subject: amdName("SEV-VCEK"),
    publicKey: vcekKeys.publicKey,
    issuer: ask,
    hash: "SHA-384",
    notBefore,
    notAfter,
    ca: false,
    extensions: [
      [`${AMD}.1`, der.encode(der.int(1))],
      [`${AMD}.2`, der.encode(der.ia5("Genoa"))],
      [`${AMD}.3.1`, der.encode(der.int(t.bootloader))],
      [`${AMD}.3.2`, der.encode(der.int(t.tee))],
      [`${AMD}.3.3`, der.encode(der.int(t.snp))],
      [`${AMD}.3.8`, der.encode(der.int(t.microcode))],
      // AMD KDS puts the raw 64-byte hardware id in the extension value.
      [`${AMD}.4`, chipId],
    ],
  });
  const crl = await issueCrl(ark, new Date(now.getTime() - 3_600_000), new Date(now.getTime() + 30 * day));
  return { ark, ask, vcek: { keys: vcekKeys, der: vcekDer }, chipId, crl };
}

/** A version 3 SEV-SNP attestation report (1184 bytes) carrying `reportData`, signed by the VCEK. */
export async function simulateSevSnpReport(
  pki: SevSnpDevelopmentPki,
  reportData: Uint8Array,
  measurement: string = SIMULATED_MEASUREMENTS.sevSnp.measurement,
): Promise<Uint8Array> {
  const L = SEV_SNP_REPORT_LAYOUT;
  const report = new Uint8Array(SEV_SNP_REPORT_SIZE);
  const view = new DataView(report.buffer);
  const tcb = tcbValue();
  view.setUint32(L.version.offset, 3, true); // version
  view.setUint32(L.guestSvn.offset, 1, true); // guest SVN
  view.setBigUint64(L.policy.offset, 0x30000n, true); // policy: reserved bit 17 set, SMT allowed, no debug, no migration agent
  view.setUint32(L.vmpl.offset, 0, true); // VMPL 0
  view.setUint32(L.signatureAlgo.offset, 1, true); // ECDSA P-384 with SHA-384
  view.setBigUint64(L.currentTcb.offset, tcb, true); // current TCB
  view.setBigUint64(L.platformInfo.offset, 1n, true); // platform info: SMT enabled
  view.setUint32(L.keyInfo.offset, 0, true); // key info: signed by the VCEK, chip id not masked
  report.set(reportData, L.reportData.offset);
  report.set(fromHex(measurement), L.measurement.offset);
  report.set(crypto.getRandomValues(new Uint8Array(L.reportId.size)), L.reportId.offset); // report id
  view.setBigUint64(L.reportedTcb.offset, tcb, true); // reported TCB
  report[L.cpuidFamily.offset] = 0x19; // CPUID family: Zen 4
  report[L.cpuidModel.offset] = 0x11; // model: Genoa
  report[L.cpuidStepping.offset] = 0x01; // stepping
  report.set(pki.chipId, L.chipId.offset);
  view.setBigUint64(L.committedTcb.offset, tcb, true); // committed TCB
  report.set([55, 1, 1], L.currentBuild.offset); // current build, minor, major
  report.set([55, 1, 1], L.committedBuild.offset); // committed build, minor, major
  view.setBigUint64(L.launchTcb.offset, tcb, true); // launch TCB
  const signature = await signEcdsa(
    pki.vcek.keys.privateKey,
    "SHA-384",
    report.subarray(0, L.signature.offset),
  );
  // r and s are stored little-endian in 72-byte fields.
  report.set(signature.subarray(0, 48).reverse(), L.signature.offset);
  report.set(signature.subarray(48, 96).reverse(), L.signature.offset + L.signature.size / 2);
  return report;
}
