import { readVectorJson } from "@peercycles/internal-vectors";
import { describe, expect, it } from "vitest";
import { fromBase64, toHex } from "../common/bytes.js";
import { AttestError } from "../common/errors.js";
import { parseCertificates } from "../common/x509.js";
import { leafFwid } from "./fwid.js";
import { AT, bytes, NONCE_931D, NONCE_PPCIE, NV, ppcieGpu, ppcieSwitch, text } from "./test-vectors.js";
import { type NvidiaVerificationResult, verifyNvidiaEvidence } from "./verify.js";

/** Tests about other checks accept unchecked freshness and measurements by name (issue #11 defaults). */
const UNCHECKED = { policy: { requireNonce: false, requireRimMatch: false } } as const;

const codes = (r: NvidiaVerificationResult) => r.errors.map((e) => e.code);
const offline = { offline: true, ...UNCHECKED, now: AT.device } as const;

describe("verifyNvidiaEvidence: real evidence without RIMs (README C1)", () => {
  it("accepts every genuine GPU and switch blob with its chain", async () => {
    const rows: [string, string, string, string, string][] = [
      [
        NV.nvtrustReport,
        NV.nvtrustChain,
        NONCE_931D,
        "hopper",
        "478176379286082186618948445787393647364802107249",
      ],
      [
        NV.sdkReport,
        NV.sdkChain,
        "5bb22e377702d4e1e8215a903ba094826b9ac7f731dee1fe8102958bf2840aca",
        "hopper",
        "509096176156678437554566035365892618958504054724",
      ],
      [
        NV.sample535,
        NV.sample535Chain,
        "27a328247bf7935c993341cf587be6f05986ccce4fe7ba2c54100bd616a58f66",
        "hopper",
        "",
      ],
      [NV.expired, NV.expiredChain, NONCE_931D, "hopper", ""],
      [
        NV.blackwell,
        NV.blackwellChain,
        NONCE_931D,
        "blackwell",
        "474146966256510137525212816567191319424869109849",
      ],
      [
        NV.switchReport,
        NV.switchChain,
        NONCE_931D,
        "ls10",
        "694931143880983876767046803400974855445978836716",
      ],
    ];
    for (const [evidence, chain, nonce, arch, ueid] of rows) {
      const result = await verifyNvidiaEvidence(bytes(evidence), {
        ...offline,
        certChain: text(chain),
        nonce,
      });
      expect([evidence, result.ok, result.verified, codes(result)]).toEqual([evidence, true, true, []]);
      expect(result.device?.architecture).toBe(arch);
      if (ueid) expect(result.device?.ueid).toBe(ueid);
      expect(result.revocationChecked).toBe(false);
      expect(result.measurements).toBeNull();
      expect(result.checks.find((c) => c.id === "device_ocsp")?.status).toBe("skip");
    }
  });

  it("reports hwmodel (issuer of the leaf) as the SDK does", async () => {
    const gpu = await verifyNvidiaEvidence(bytes(NV.sdkReport), { ...offline, certChain: text(NV.sdkChain) });
    expect(gpu.device?.hardwareModel).toBe("GH100 A01 GSP BROM");
    const bw = await verifyNvidiaEvidence(bytes(NV.blackwell), {
      ...offline,
      certChain: text(NV.blackwellChain),
    });
    expect(bw.device?.hardwareModel).toBe("GB100 A01 GSP BROM");
    const sw = await verifyNvidiaEvidence(bytes(NV.switchReport), {
      ...offline,
      certChain: text(NV.switchChain),
    });
    expect([sw.device?.hardwareModel, sw.device?.kind, sw.driverVersion]).toEqual([
      "LS_10 A01 FSP BROM",
      "switch",
      null,
    ]);
  });

  it("checks the FWID where the evidence has one, including Blackwell's TcbInfo extension", async () => {
    const r = await verifyNvidiaEvidence(bytes(NV.nvtrustReport), {
      ...offline,
      certChain: text(NV.nvtrustChain),
    });
    expect(r.checks.find((c) => c.id === "fwid")?.status).toBe("pass");
    const bw = await verifyNvidiaEvidence(bytes(NV.blackwell), {
      ...offline,
      certChain: text(NV.blackwellChain),
    });
    expect(bw.checks.find((c) => c.id === "fwid")?.status).toBe("pass");
    const old = await verifyNvidiaEvidence(bytes(NV.sample535), {
      ...offline,
      certChain: text(NV.sample535Chain),
    });
    expect(old.checks.find((c) => c.id === "fwid")?.status).toBe("skip");
  });

  it("GpuEvidenceInvalidSignature: the invalid-signature H100 blob", async () => {
    const r = await verifyNvidiaEvidence(bytes(NV.invalidSignature), {
      ...offline,
      certChain: text(NV.sample535Chain),
      nonce: NONCE_931D,
    });
    expect(r.verified).toBe(false);
    expect(codes(r)).toContain("nvidia_spdm_signature_invalid");
    // The chain is the 535.86.09 sample's (another GPU): the FWID differs as well.
    expect(codes(r)).toEqual(["nvidia_fwid_mismatch", "nvidia_spdm_signature_invalid"]);
  });

  it("SwitchEvidenceInvalidSignature: the invalid-signature switch blob", async () => {
    const r = await verifyNvidiaEvidence(bytes(NV.switchInvalidSignature), {
      ...offline,
      certChain: text(NV.switchChain),
    });
    expect(codes(r)).toEqual(["nvidia_spdm_signature_invalid"]);
  });

  it("GpuEvidenceNonceMismatch / SwitchEvidenceNonceMismatch: expected nonce of 32 zero bytes", async () => {
    const zero = "00".repeat(32);
    const gpu = await verifyNvidiaEvidence(bytes(NV.sample535), {
      ...offline,
      certChain: text(NV.sample535Chain),
      nonce: zero,
    });
    expect(codes(gpu)).toEqual(["nvidia_nonce_mismatch"]);
    const sw = await verifyNvidiaEvidence(bytes(NV.switchReport), {
      ...offline,
      certChain: text(NV.switchChain),
      nonce: zero,
    });
    expect(codes(sw)).toEqual(["nvidia_nonce_mismatch"]);
  });

  it("the responder nonce is not the freshness value", async () => {
    const r = await verifyNvidiaEvidence(bytes(NV.sdkReport), {
      ...offline,
      certChain: text(NV.sdkChain),
      nonce: "1c877b01400fbe0d8c5530050fc3311098534bf65d0a95f1a21d32b62fe317fb",
    });
    expect(codes(r)).toEqual(["nvidia_nonce_mismatch"]);
  });
});

describe("TRUSTEE certificate chain cases (README C4)", () => {
  const evidence = () => bytes("nvidia/trustee/hopperAttestationReport.txt");
  it("case 1 (full chain): verified, FWID f5c384ae…", async () => {
    const r = await verifyNvidiaEvidence(evidence(), {
      ...offline,
      certChain: text("nvidia/trustee/hopper_cert_chain_case1.txt"),
      nonce: NONCE_931D,
    });
    expect([r.ok, codes(r)]).toEqual([true, []]);
    const leaf = parseCertificates(text("nvidia/trustee/hopper_signing_cert.pem"))[0];
    expect(toHex(leafFwid(leaf as never).digest)).toBe(
      "f5c384aebb579217a2c66b17ed0f28e6a9b8d639041acd7b4721cec004f7275494ba94bb5cdfdb3055ee051762b1f75d",
    );
  });
  it("case 2 (only the root): chain too short", async () => {
    const r = await verifyNvidiaEvidence(evidence(), {
      ...offline,
      certChain: text("nvidia/trustee/hopper_cert_chain_case2.txt"),
    });
    expect(codes(r)[0]).toBe("nvidia_device_chain_too_short");
  });
  it("case 3 (Provisioner ICA missing): chain does not verify", async () => {
    const r = await verifyNvidiaEvidence(evidence(), {
      ...offline,
      certChain: text("nvidia/trustee/hopper_cert_chain_case3.txt"),
    });
    expect(codes(r)).toEqual(["nvidia_device_certificate_chain_incomplete"]);
  });
  it("case 4 (no leaf): FWID extension not found", async () => {
    const r = await verifyNvidiaEvidence(evidence(), {
      ...offline,
      certChain: text("nvidia/trustee/hopper_cert_chain_case4.txt"),
    });
    // The chain starts at the BROM, a CA: no device leaf in its role (issue #11), then the source's
    // own verdict, no FWID.
    expect(codes(r)[0]).toBe("nvidia_device_chain_role_invalid");
    expect(codes(r)).toContain("nvidia_fwid_missing");
    expect(codes(r)).toContain("nvidia_spdm_signature_invalid");
  });
});

describe("evidence + RIMs (README C2/C3, pinned times)", () => {
  it("switch evidence + switch BIOS RIM: the complete offline positive pair", async () => {
    const r = await verifyNvidiaEvidence(bytes(NV.switchReport), {
      certChain: text(NV.switchChain),
      rims: [text(NV.rims.switchBios)],
      nonce: NONCE_931D,
      now: AT.switchRim,
      offline: true,
      ...UNCHECKED,
    });
    expect([r.ok, codes(r)]).toEqual([true, []]);
    expect(r.measurements).toEqual({ total: 31, matched: 31, mismatched: [] });
    expect(r.vbiosVersion).toBe("96.10.55.00.01");
    expect(r.rims).toEqual([
      {
        version: "96.10.55.00.01",
        kind: "vbios",
        ok: true,
        revocationChecked: false,
        signer: expect.any(String),
      },
    ]);
  });

  it("VerifySwitchEvidenceWithBadRimSignature: RimInvalidSignature", async () => {
    const r = await verifyNvidiaEvidence(bytes(NV.switchReport), {
      certChain: text(NV.switchChain),
      rims: [text(NV.rims.switchBadSignature)],
      now: AT.switchBadSignature,
      offline: true,
      ...UNCHECKED,
    });
    expect(codes(r)).toContain("nvidia_rim_signature_invalid");
    expect(r.measurements?.mismatched).toEqual([0, 1]);
  });

  it("VerifySwitchEvidenceWithDriverMeasurementsMismatch: measres failure (and its edited signature fails)", async () => {
    const r = await verifyNvidiaEvidence(bytes(NV.switchReport), {
      certChain: text(NV.switchChain),
      rims: [text(NV.rims.switchMismatch)],
      now: AT.vbiosMismatch,
      offline: true,
      ...UNCHECKED,
    });
    expect(codes(r)).toEqual(["nvidia_rim_signature_invalid", "nvidia_measurement_mismatch"]);
    expect(r.measurements?.mismatched.length).toBe(11);
  });

  it("535.86.09 sample + genuine PROD VBIOS RIM: all 12 match", async () => {
    const r = await verifyNvidiaEvidence(bytes(NV.sample535), {
      certChain: text(NV.sample535Chain),
      rims: [text(NV.rims.vbios5EProd)],
      now: AT.vbiosProd,
      offline: true,
      ...UNCHECKED,
    });
    expect([r.ok, codes(r), r.measurements]).toEqual([true, [], { total: 12, matched: 12, mismatched: [] }]);
  });

  it("VerifyGpuEvidenceWithDriverMeasurementsMismatch: VBIOS RIM index 9 and the driver RIM's 15", async () => {
    const r = await verifyNvidiaEvidence(bytes(NV.sample535), {
      certChain: text(NV.sample535Chain),
      rims: [text(NV.rims.vbios5EMismatch), text(NV.rims.driver535Mismatch)],
      now: AT.vbiosMismatch,
      offline: true,
      ...UNCHECKED,
    });
    expect(codes(r)).toContain("nvidia_measurement_mismatch");
    expect(r.measurements?.mismatched).toEqual([
      7, 9, 21, 22, 25, 26, 27, 29, 30, 31, 32, 34, 37, 39, 40, 41,
    ]);
    // The driver RIM was edited after signing (the SDK test turns RIM signatures off; we do not).
    expect(codes(r)).toContain("nvidia_rim_signature_invalid");
  });

  it("VerifyGpuEvidenceWithExpiredDriverRim: expired RIM signer", async () => {
    const r = await verifyNvidiaEvidence(bytes(NV.expired), {
      certChain: text(NV.expiredChain),
      rims: [text(NV.rims.driver570Expired)],
      now: AT.device,
      offline: true,
      ...UNCHECKED,
    });
    expect(codes(r)).toContain("nvidia_rim_certificate_expired");
    expect(r.verified).toBe(false);
  });

  it("nvtrust test_no_gpu RIMs do not match the nvtrust sample: versions and 20 measurements differ", async () => {
    const r = await verifyNvidiaEvidence(bytes(NV.nvtrustReport), {
      certChain: text(NV.nvtrustChain),
      rims: [text(NV.rims.driverTestNoGpu), text(NV.rims.vbios5ETestNoGpu)],
      now: AT.testNoGpu,
      offline: true,
      ...UNCHECKED,
    });
    expect(codes(r)).toEqual([
      "nvidia_rim_version_mismatch",
      "nvidia_rim_version_mismatch",
      "nvidia_measurement_mismatch",
    ]);
    expect(r.measurements?.mismatched.length).toBe(20);
  });
});

describe("JSON containers (attestation-sdk serialized evidence)", () => {
  type Entry = { arch: string; certificate: string; evidence: string; nonce: string };
  it("evidence_hopper_590_12.json, hopper_evidence.json, multi_gpu_hopper.json, switch_evidence_ls10.json, hopper_evidence_cert_hold.json verify offline", async () => {
    for (const path of [
      "nvidia/nvidia-attestation-sdk/evidence_hopper_590_12.json",
      "nvidia/nvidia-attestation-sdk/serialized/hopper_evidence.json",
      "nvidia/nvidia-attestation-sdk/serialized/multi_gpu_hopper.json",
      "nvidia/nvidia-attestation-sdk/serialized/switch_evidence_ls10.json",
      "nvidia/nvidia-attestation-sdk/serialized/hopper_evidence_cert_hold.json",
    ]) {
      for (const entry of readVectorJson<Entry[]>(path)) {
        // certificate is base64 of the PEM chain, as nvtrust carries it.
        const r = await verifyNvidiaEvidence(fromBase64(entry.evidence), {
          ...offline,
          certChain: entry.certificate,
          nonce: entry.nonce,
        });
        expect([path, r.ok, codes(r)]).toEqual([path, true, []]);
      }
    }
  });
  it("the cert-hold evidence is genuine offline; its revocation (certificateHold) needs OCSP and is not claimed", async () => {
    const [entry] = readVectorJson<Entry[]>(
      "nvidia/nvidia-attestation-sdk/serialized/hopper_evidence_cert_hold.json",
    );
    const r = await verifyNvidiaEvidence(fromBase64((entry as Entry).evidence), {
      ...offline,
      certChain: (entry as Entry).certificate,
      policy: { requireRevocationChecked: true, requireNonce: false, requireRimMatch: false },
    });
    expect([r.verified, r.ok, codes(r)]).toEqual([true, false, ["nvidia_policy_revocation_unchecked"]]);
    expect(r.unchecked).toEqual(["nonce", "measurements"]);
  });
});

describe("policy", () => {
  it("evaluates every rule and reports every violation", async () => {
    const r = await verifyNvidiaEvidence(bytes(NV.nvtrustReport), {
      ...offline,
      certChain: text(NV.nvtrustChain),
      policy: {
        requireRimMatch: true,
        allowedDriverVersions: ["580.159.03"],
        allowedVbiosVersions: ["96.00.74.00.20"],
        requireCcMode: true,
        allowedModes: ["ppcie"],
        requireRevocationChecked: true,
        requireNonce: true,
        allowedArchitectures: ["blackwell"],
      },
    });
    expect(r.verified).toBe(true);
    expect(r.ok).toBe(false);
    expect(r.policyViolations.map((v) => v.code)).toEqual([
      "nvidia_policy_rim_required",
      "nvidia_policy_driver_version",
      "nvidia_policy_vbios_version",
      "nvidia_policy_cc_mode",
      "nvidia_policy_mode",
      "nvidia_policy_revocation_unchecked",
      "nvidia_policy_nonce_unchecked",
      "nvidia_policy_architecture",
    ]);
  });
  it("accepts what it allows", async () => {
    const r = await verifyNvidiaEvidence(bytes(NV.switchReport), {
      certChain: text(NV.switchChain),
      rims: [text(NV.rims.switchBios)],
      nonce: NONCE_931D,
      now: AT.switchRim,
      offline: true,
      ...UNCHECKED,
      policy: {
        requireRimMatch: true,
        allowedVbiosVersions: ["96.10.55.00.01"],
        requireNonce: true,
        allowedArchitectures: ["ls10"],
      },
    });
    expect([r.ok, codes(r)]).toEqual([true, []]);
  });
  it("rejects unknown keys", async () => {
    await expect(
      verifyNvidiaEvidence(bytes(NV.switchReport), {
        ...offline,
        certChain: text(NV.switchChain),
        policy: { requireRimMatches: true },
      }),
    ).rejects.toMatchObject({
      code: "policy_invalid",
    });
  });
});

describe("unusable input throws", () => {
  it("bad evidence, bad chain, bad nonce, bad now", async () => {
    const cases: [() => Promise<unknown>, string][] = [
      [
        () => verifyNvidiaEvidence(new Uint8Array(10), { ...offline, certChain: text(NV.nvtrustChain) }),
        "nvidia_spdm_truncated",
      ],
      [
        () => verifyNvidiaEvidence(bytes(NV.nvtrustReport), { ...offline, certChain: "garbage" }),
        "nvidia_cert_chain_invalid",
      ],
      [
        () =>
          verifyNvidiaEvidence(bytes(NV.nvtrustReport), {
            ...offline,
            certChain: text(NV.nvtrustChain),
            nonce: "00",
          }),
        "nvidia_nonce_invalid",
      ],
      [
        () =>
          verifyNvidiaEvidence(bytes(NV.nvtrustReport), {
            certChain: text(NV.nvtrustChain),
            now: new Date(Number.NaN),
            offline: true,
            ...UNCHECKED,
          }),
        "nvidia_argument_invalid",
      ],
    ];
    for (const [run, code] of cases) {
      try {
        await run();
        expect.unreachable(code);
      } catch (error) {
        expect(AttestError.isInstance(error) && error.code).toBe(code);
      }
    }
  });
  it("PPCIe GPU 0 with the nonce of the set", async () => {
    const g = ppcieGpu(0);
    const s = ppcieSwitch(0);
    expect(
      (await verifyNvidiaEvidence(g.evidence, { ...offline, certChain: g.certChain, nonce: NONCE_PPCIE }))
        .mode,
    ).toBe("ppcie");
    expect(
      (await verifyNvidiaEvidence(s.evidence, { ...offline, certChain: s.certChain, nonce: NONCE_PPCIE })).ok,
    ).toBe(true);
  });
});
