import { readVectorJson } from "@peercycles/internal-vectors";
import { describe, expect, it } from "vitest";
import { concatBytes, fromHex, toHex } from "../common/bytes.js";
import { AttestError } from "../common/errors.js";
import { opaqueFieldsAsHex, parseOpaqueData } from "./opaque-data.js";
import { parseSpdmMeasurements } from "./spdm.js";
import { bytes, NV, text } from "./test-vectors.js";

type Golden = {
  SPDMVersion: string;
  RequestResponseCode: string;
  Param1: string;
  Param2: string;
  NumberOfBlocks: number;
  MeasurementRecordLength: number;
  Nonce: string;
  OpaqueLength: number;
  Signature: string;
  MeasurementRecord: {
    MeasurementBlocks: Record<
      string,
      {
        DMTFSpecMeasurementValueType: number;
        DMTFSpecMeasurementValueSize: number;
        DMTFSpecMeasurementValue: string;
      }
    >;
  };
  OpaqueData: { OpaqueDataField: Record<string, string | number[]> };
};

describe("parseSpdmMeasurements on the real evidence (README C1)", () => {
  it("matches attestation-sdk's parsed request and response for its default evidence", () => {
    const evidence = parseSpdmMeasurements(bytes(NV.sdkReport));
    const req = readVectorJson<Record<string, string>>(
      "nvidia/nvidia-attestation-sdk/spdm_req_parsed_output.json",
    );
    expect(evidence.request.version).toBe(Number(req.SPDMVersion));
    expect(evidence.request.code).toBe(Number(req.RequestResponseCode));
    expect(evidence.request.param1).toBe(Number(req.Param1));
    expect(evidence.request.param2).toBe(Number(req.Param2));
    expect(`0x${toHex(evidence.request.nonce)}`).toBe(req.Nonce);
    expect(evidence.request.slotId).toBe(Number(req.SlotIDParam));

    const golden = readVectorJson<Golden>("nvidia/nvidia-attestation-sdk/spdm_parsed_output.json");
    const res = evidence.response;
    expect(res.version).toBe(Number(golden.SPDMVersion));
    expect(res.code).toBe(Number(golden.RequestResponseCode));
    expect(res.param1).toBe(Number(golden.Param1));
    expect(res.param2).toBe(Number(golden.Param2));
    expect(res.numberOfBlocks).toBe(golden.NumberOfBlocks);
    expect(res.measurementRecordLength).toBe(golden.MeasurementRecordLength);
    expect(`0x${toHex(res.responderNonce)}`).toBe(golden.Nonce);
    expect(res.opaqueData.length).toBe(golden.OpaqueLength);
    expect(`0x${toHex(res.signature)}`).toBe(golden.Signature);
    for (const block of res.blocks) {
      const g = golden.MeasurementRecord.MeasurementBlocks[String(block.index)];
      expect(g, `block ${block.index}`).toBeDefined();
      expect([block.valueType, block.value.length, `0x${toHex(block.value)}`]).toEqual([
        g?.DMTFSpecMeasurementValueType,
        g?.DMTFSpecMeasurementValueSize,
        g?.DMTFSpecMeasurementValue,
      ]);
    }
    const fields = opaqueFieldsAsHex(res.opaque);
    for (const [name, value] of Object.entries(golden.OpaqueData.OpaqueDataField)) {
      const ours = name.replace(/^OPAQUE_FIELD_ID_/, "").toLowerCase();
      if (Array.isArray(value)) expect(res.opaque.measurementCounts).toEqual(value);
      else expect(`0x${fields[ours]}`, name).toBe(value);
    }
    expect(res.opaque.driverVersion).toBe("580.159.03");
    expect(res.opaque.vbiosVersion).toBe("96.00.74.00.20");
    expect(evidence.length).toBe(4130);
    expect(evidence.trailingBytes).toBe(0);
  });

  it("matches TRUSTEE's golden claims for the nvtrust sample", () => {
    const evidence = parseSpdmMeasurements(bytes(NV.nvtrustReport));
    const claims = JSON.parse(text("nvidia/trustee/hopperAttestationReport-claims.txt")) as {
      config: Record<string, string>;
      measurements: Record<string, string>;
    };
    const o = evidence.response.opaque;
    expect(o.driverVersion).toBe(claims.config.driver_version);
    expect(o.vbiosVersion?.toLowerCase()).toBe(claims.config.vbios_version);
    expect(toHex(o.fwid as Uint8Array)).toBe(claims.config.fwid);
    expect([o.project, o.projectSku, o.projectSkuMod, o.chipSku, o.chipSkuMod]).toEqual([
      claims.config.project,
      claims.config.project_sku,
      claims.config.project_sku_mod,
      claims.config.chip_sku,
      claims.config.chip_sku_mod,
    ]);
    expect(o.protectedPcieStatus).toBe(claims.config.protected_pcie_status);
    for (const block of evidence.response.blocks)
      expect(toHex(block.value)).toBe(claims.measurements[String(block.index)]);
  });

  it("reads every evidence file's nonce, versions and lengths", () => {
    const rows: [string, number, number, string, string | undefined, string][] = [
      [NV.nvtrustReport, 4117, 64, "931d8dd0", "550.90.07", "96.00.9F.00.01"],
      [NV.sdkReport, 4130, 64, "5bb22e37", "580.159.03", "96.00.74.00.20"],
      [NV.sample535, 4052, 64, "27a32824", "535.86.09", "96.00.5E.00.01"],
      [NV.expired, 4118, 64, "931d8dd0", "570.124.03", "96.00.5E.00.04"],
      [NV.invalidSignature, 4262, 64, "931d8dd0", "560.00", "96.00.A5.00.01"],
      [NV.blackwell, 4121, 64, "931d8dd0", "575.32", "97.00.88.00.0F"],
      [NV.switchReport, 2168, 31, "931d8dd0", undefined, "96.10.55.00.01"],
      [NV.switchInvalidSignature, 2168, 31, "ea038ed5", undefined, "96.10.52.00.00"],
      [
        "nvidia/nvtrust/ppcie/decoded/gpu_evidence_0.evidence.bin",
        4274,
        64,
        "4760e305",
        "590.12",
        "96.00.A5.00.01",
      ],
      [
        "nvidia/nvtrust/ppcie/decoded/switch_evidence_0.evidence.bin",
        2172,
        31,
        "4760e305",
        undefined,
        "96.10.73.00.01",
      ],
    ];
    for (const [path, length, blocks, nonce, driver, vbios] of rows) {
      const raw = bytes(path);
      const e = parseSpdmMeasurements(raw);
      expect([
        path,
        e.length,
        raw.length,
        e.response.numberOfBlocks,
        toHex(e.request.nonce).slice(0, 8),
        e.response.opaque.driverVersion,
        e.response.opaque.vbiosVersion,
      ]).toEqual([path, length, length, blocks, nonce, driver, vbios]);
    }
  });

  it("reads the hex form identically", () => {
    const fromText = parseSpdmMeasurements(fromHex(text(NV.sdkReportHex)));
    expect(toHex(fromText.signedBytes)).toBe(toHex(parseSpdmMeasurements(bytes(NV.sdkReport)).signedBytes));
  });

  it("decodes feature mode and opaque version (590.12: version 1, PPCIE; 580.159.03: MPT)", () => {
    const ppcie = parseSpdmMeasurements(bytes("nvidia/nvtrust/ppcie/decoded/gpu_evidence_0.evidence.bin"))
      .response.opaque;
    expect([ppcie.opaqueDataVersion, ppcie.featureMode]).toEqual([1, "ppcie"]);
    expect(parseSpdmMeasurements(bytes(NV.sdkReport)).response.opaque.featureMode).toBe("mpt");
    expect(parseSpdmMeasurements(bytes(NV.nvtrustReport)).response.opaque.featureMode).toBeUndefined();
  });

  it("tolerates a trailing byte after the signature, reports it, and excludes it from the signed span", () => {
    const raw = bytes(NV.nvtrustReport);
    const e = parseSpdmMeasurements(concatBytes(raw, new Uint8Array([0x0a])));
    expect(e.trailingBytes).toBe(1);
    expect(e.signedBytes.length).toBe(raw.length - 96);
  });

  it("rejects a truncated blob with the field that did not fit", () => {
    const raw = bytes(NV.nvtrustReport);
    for (const cut of [0, 10, 36, 44, 500, raw.length - 97, raw.length - 1]) {
      try {
        parseSpdmMeasurements(raw.subarray(0, cut));
        expect.unreachable(`parsed ${cut} bytes`);
      } catch (error) {
        expect(AttestError.isInstance(error) && error.code.startsWith("nvidia_")).toBe(true);
      }
    }
  });

  it("opaque data: repeated types and short TLVs are rejected", () => {
    expect(() => parseOpaqueData(new Uint8Array([3, 0, 1, 0, 0x41, 3, 0, 1, 0, 0x42]))).toThrowError(
      /repeats/,
    );
    expect(() => parseOpaqueData(new Uint8Array([3, 0, 5, 0, 0x41]))).toThrowError(/truncated/);
    expect(parseOpaqueData(new Uint8Array([0x2a, 0x01, 1, 0, 7])).fields[0]?.name).toBe("unknown_298");
  });
});
