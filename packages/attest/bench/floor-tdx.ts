/**
 * The floor under a fresh process's first TDX verification, under this project's rules: certificates
 * and CRLs are decoded by asn1js, signatures are checked by node:crypto. This does only that much of
 * a verification: asn1js decodes the six DER objects `verifyTdxQuote` reads (the pinned root, the
 * PCK leaf and CA from the quote, the TCB signing certificate, the root CA and PCK CRLs), with the
 * options the verifier uses, then node:crypto (loaded here, as the verifier loads it on its first
 * call) checks one signature: the PCK CA's, with the root's key. No parsing of the quote, no
 * collateral JSON, no TCB evaluation, no policy: whatever a verifier does beyond this costs more.
 *
 * The start bench bundles this file with esbuild (asn1js from its ES module build, as the package's
 * Node build bundles it) and runs it in a fresh process: `node floor-tdx.mjs OBJECTS`, where OBJECTS
 * holds the six objects, each as a 4-byte big-endian length and its bytes. It prints one JSON line.
 */
import { readFileSync } from "node:fs";
import * as asn1js from "asn1js";

const file = readFileSync(process.argv[2] as string);
const objects: Uint8Array[] = [];
for (let offset = 0; offset < file.length; ) {
  const length = file.readUInt32BE(offset);
  objects.push(new Uint8Array(file.subarray(offset + 4, offset + 4 + length)));
  offset += 4 + length;
}
if (objects.length !== 6) throw new Error(`floor-tdx: expected 6 objects, got ${objects.length}`);

const started = performance.now();
const decoded = objects.map((bytes) => {
  const { offset, result } = asn1js.fromBER(bytes, { parseEmbedded: false, copyInput: false });
  if (offset !== bytes.length) throw new Error("floor-tdx: an object is not one DER element");
  return result as asn1js.Sequence;
});
const decodedAt = performance.now();

// The PCK CA certificate (objects[2]) signed by the root (objects[0]): tbsCertificate, signature BIT STRING.
const { createPublicKey, verify } = process.getBuiltinModule("node:crypto");
const field = (node: asn1js.AsnType, index: number) =>
  (node as asn1js.Sequence).valueBlock.value[index] as asn1js.BaseBlock;
const rootKey = createPublicKey({
  key: Buffer.from(field(field(decoded[0]!, 0), 6).valueBeforeDecodeView),
  format: "der",
  type: "spki",
});
const tbs = field(decoded[2]!, 0).valueBeforeDecodeView;
const signature = (field(decoded[2]!, 2) as asn1js.BitString).valueBlock.valueHexView;
if (!verify("sha256", tbs, rootKey, signature))
  throw new Error("floor-tdx: the PCK CA signature does not verify");
const checkedAt = performance.now();

console.log(JSON.stringify({ decode: decodedAt - started, call: checkedAt - started }));
