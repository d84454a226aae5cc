import { concatBytes } from "@noble/curves/utils.js";
import { DEVELOPMENT_ROOT_MARKER } from "@peercycles/attest/bundle";
import { der } from "./asn1.js";
import {
  generateEcKeys,
  type Issuer,
  issueCertificate,
  issueIntermediate,
  issueRoot,
  signEcdsa,
} from "./dev-pki.js";
import { simulatedDigest } from "./simulated-measurements.js";

/**
 * Simulated NVIDIA Hopper GPU in confidential-computing mode: a development "Device Identity CA",
 * a provisioner intermediate and a per-GPU leaf ("GH100 A01 GSP FMC LF", P-384, with an FWID
 * extension), and SPDM 1.1 GET_MEASUREMENTS transcripts: the request with the requester nonce,
 * the response with measurement blocks, responder nonce, opaque data (driver and VBIOS version,
 * FWID, feature mode) and an ECDSA P-384/SHA-384 signature over every preceding byte.
 *
 * No RIMs are produced: NVIDIA RIMs are XML-DSig documents under NVIDIA's RIM root, and the
 * simulator does not forge them. A policy with `requireRimMatch` therefore rejects simulated GPUs.
 */

const O = ["O", DEVELOPMENT_ROOT_MARKER] as const;
const OID_FWID = "2.23.133.5.4.1";
const SHA384 = "2.16.840.1.101.3.4.2.2";

/** What a simulated GPU reports: driver and VBIOS versions, number of measurement blocks. */
export const SIMULATED_GPU = {
  driverVersion: "570.124.06",
  /** VBIOS 96.00.9F.00.01 as the opaque field stores it (b3 b2 b1 b0 b4 order printed). */
  vbios: new Uint8Array([0x00, 0x9f, 0x00, 0x96, 0x01]),
  blocks: 8,
} as const;

/** The NVIDIA development PKI: device identity CA and provisioner. */
export interface NvidiaDevelopmentPki {
  readonly root: Issuer;
  readonly provisioner: Issuer;
}

/** One simulated GPU: its leaf key, FWID and device chain. */
export interface SimulatedGpu {
  readonly keys: CryptoKeyPair;
  readonly fwid: Uint8Array;
  /** DER certificates, leaf first, root last (as NVIDIA's device chains are delivered). */
  readonly certificates: readonly Uint8Array[];
}

/** Creates the GPU development PKI (valid from `now` − 1 day for 5 years). */
export async function createNvidiaPki(now: Date): Promise<NvidiaDevelopmentPki> {
  const day = 86_400_000;
  const notBefore = new Date(now.getTime() - day);
  const notAfter = new Date(now.getTime() + 5 * 365 * day);
  const root = await issueRoot(
    [["CN", "Peer Cycles DEVELOPMENT NVIDIA Device Identity CA"], O],
    await generateEcKeys("P-384"),
    "SHA-384",
    notBefore,
    notAfter,
  );
  const provisioner = await issueIntermediate(
    root,
    [["CN", "Peer Cycles DEVELOPMENT NVIDIA GH100 Provisioner ICA 1"], O],
    await generateEcKeys("P-384"),
    "SHA-384",
    notBefore,
    notAfter,
  );
  return { root, provisioner };
}

/** One simulated GPU: its own leaf key and certificate under the provisioner. */
export async function createSimulatedGpu(
  pki: NvidiaDevelopmentPki,
  now: Date,
  index: number,
): Promise<SimulatedGpu> {
  const day = 86_400_000;
  const keys = await generateEcKeys("P-384");
  const fwid = simulatedDigest(`nvidia/fwid/${index}`);
  const leaf = await issueCertificate({
    subject: [["CN", "GH100 A01 GSP FMC LF"], O],
    publicKey: keys.publicKey,
    issuer: pki.provisioner,
    hash: "SHA-384",
    notBefore: new Date(now.getTime() - day),
    notAfter: new Date(now.getTime() + 5 * 365 * day),
    ca: false,
    extensions: [[OID_FWID, der.encode(der.seq(der.seq(der.oid(SHA384), der.octets(fwid))))]],
  });
  return { keys, fwid, certificates: [leaf, pki.provisioner.der, pki.root.der] };
}

function tlv(type: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + value.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, type, true);
  view.setUint16(2, value.length, true);
  out.set(value, 4);
  return out;
}

/** An SPDM GET_MEASUREMENTS request + signed MEASUREMENTS response for `nonce` (32 bytes). */
export async function simulateSpdmEvidence(gpu: SimulatedGpu, nonce: Uint8Array): Promise<Uint8Array> {
  const request = concatBytes(new Uint8Array([0x11, 0xe0, 0x01, 0xff]), nonce, new Uint8Array([0x00]));
  const blocks: Uint8Array[] = [];
  for (let index = 1; index <= SIMULATED_GPU.blocks; index++) {
    const value = simulatedDigest(`nvidia/measurement/${index}`);
    const block = new Uint8Array(4 + 3 + value.length);
    const view = new DataView(block.buffer);
    block[0] = index;
    block[1] = 0x01; // DMTF measurement specification
    view.setUint16(2, 3 + value.length, true);
    block[4] = 0x01; // DMTF value type: firmware (digest)
    view.setUint16(5, value.length, true);
    block.set(value, 7);
    blocks.push(block);
  }
  const record = concatBytes(...blocks);
  const header = new Uint8Array([
    0x11,
    0x60,
    0x00,
    0x00,
    blocks.length,
    record.length & 0xff,
    (record.length >> 8) & 0xff,
    record.length >> 16,
  ]);
  const opaque = concatBytes(
    tlv(3, new TextEncoder().encode(SIMULATED_GPU.driverVersion)),
    tlv(6, SIMULATED_GPU.vbios),
    tlv(20, gpu.fwid),
    tlv(36, new Uint8Array([0x01, 0x00, 0x00, 0x00])), // feature flag: SPT (single-GPU passthrough)
  );
  const opaqueLength = new Uint8Array([opaque.length & 0xff, opaque.length >> 8]);
  const responderNonce = crypto.getRandomValues(new Uint8Array(32));
  const signedBytes = concatBytes(request, header, record, responderNonce, opaqueLength, opaque);
  const signature = await signEcdsa(gpu.keys.privateKey, "SHA-384", signedBytes);
  return concatBytes(signedBytes, signature);
}
