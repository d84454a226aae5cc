import { createHash } from "node:crypto";
import { readVectorText } from "@peercycles/internal-vectors";
import { describe, expect, it } from "vitest";
import { parseCertificates } from "../common/x509.js";
import { AMD_SEV_SNP_ROOTS, SEV_SNP_PRODUCTS } from "./roots.js";

/** FINGERPRINTS.txt: `file label sha256=HEX` (SHA-256 of the DER). */
const fingerprints = new Map(
  readVectorText("roots/amd/FINGERPRINTS.txt")
    .trim()
    .split("\n")
    .map((line) => {
      const [file, , hash] = line.split(" ");
      return [file as string, (hash as string).replace("sha256=", "").toLowerCase()];
    }),
);

describe("pinned AMD roots", () => {
  for (const product of SEV_SNP_PRODUCTS) {
    for (const kind of ["ark", "ask", "asvk"] as const) {
      it(`${kind} ${product} matches FINGERPRINTS.txt and the vector file`, () => {
        const pem = AMD_SEV_SNP_ROOTS[product][kind];
        const [cert] = parseCertificates(pem);
        expect(cert).toBeDefined();
        const digest = createHash("sha256")
          .update(cert?.der as Uint8Array)
          .digest("hex");
        expect(digest).toBe(fingerprints.get(`${kind}_${product}.pem`));
        expect(parseCertificates(readVectorText(`roots/amd/${kind}_${product}.pem`))[0]?.der).toEqual(
          cert?.der,
        );
      });
    }
  }

  it("ARKs are self-signed and named ARK-<Product>; ASK and ASVK are issued by them", () => {
    for (const product of SEV_SNP_PRODUCTS) {
      const name = product[0]?.toUpperCase() + product.slice(1);
      const [ark] = parseCertificates(AMD_SEV_SNP_ROOTS[product].ark);
      const [ask] = parseCertificates(AMD_SEV_SNP_ROOTS[product].ask);
      const [asvk] = parseCertificates(AMD_SEV_SNP_ROOTS[product].asvk);
      expect(ark?.subject).toContain(`CN=ARK-${name}`);
      expect(ark?.issuer).toBe(ark?.subject);
      expect(ask?.subject).toContain(`CN=SEV-${name}`);
      expect(asvk?.subject).toContain(`CN=SEV-VLEK-${name}`);
      expect(ask?.issuer).toBe(ark?.subject);
      expect(asvk?.issuer).toBe(ark?.subject);
    }
  });
});
