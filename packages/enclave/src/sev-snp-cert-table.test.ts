import { readVector } from "@peercycles/internal-vectors";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EnclaveError } from "./errors.js";
import { encodeSevSnpCertTable, parseSevSnpCertTable, SEV_SNP_CERT_GUIDS } from "./sev-snp-cert-table.js";

describe("SEV-SNP certificate table (configfs-tsm auxblob)", () => {
  it("round-trips real certificates", () => {
    const vcek = readVector("sev-snp/google-go-sev-guest/vcek.testcer");
    const entries = [
      { guid: SEV_SNP_CERT_GUIDS.vcek, data: vcek },
      { guid: SEV_SNP_CERT_GUIDS.ask, data: new Uint8Array([1, 2, 3]) },
    ];
    expect(parseSevSnpCertTable(encodeSevSnpCertTable(entries))).toEqual(entries);
    expect(parseSevSnpCertTable(new Uint8Array())).toEqual([]);
  });

  it("rejects entries pointing outside the table, or a missing terminator", () => {
    const table = encodeSevSnpCertTable([{ guid: SEV_SNP_CERT_GUIDS.ark, data: new Uint8Array(10) }]);
    const view = new DataView(table.buffer);
    view.setUint32(20, 1000, true);
    expect(() => parseSevSnpCertTable(table)).toThrowError(
      expect.objectContaining({ code: "enclave_auxblob_malformed" }),
    );
    expect(() => parseSevSnpCertTable(new Uint8Array(24).fill(1))).toThrowError(
      expect.objectContaining({ code: "enclave_auxblob_malformed" }),
    );
  });

  it("arbitrary bytes only ever throw EnclaveError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          parseSevSnpCertTable(bytes);
        } catch (error) {
          expect(EnclaveError.isInstance(error)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
