import { readVector } from "@peercycles/internal-vectors";
import { beforeAll, describe, expect, it } from "vitest";
import { AMD_ASK_MILAN_PEM } from "./roots.js";
import { type FakeAmdPki, makeFakeAmdPki, makeFakeCrl, signFakeReport } from "./testing/fake-amd-pki.js";
import { verifySevSnpReport } from "./verify.js";

/**
 * Paths the public vectors cannot reach (there is no AMD CRL and no Turin report among them),
 * exercised with a fake AMD PKI injected through `roots`. The pinned AMD roots reject all of it.
 */
const FROM = new Date("2025-01-01T00:00:00Z");
const NOW = new Date("2025-06-01T00:00:00Z");
const HWID = Uint8Array.from({ length: 64 }, (_, i) => (i * 7 + 3) & 0xff);

function setU64(bytes: Uint8Array, offset: number, value: bigint): void {
  new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(offset, value, true);
}

/** A v3 report (from the real VLEK report's bytes) re-signed by the fake VCEK. */
async function report(
  pki: FakeAmdPki,
  edit: (bytes: Uint8Array) => void = () => undefined,
): Promise<Uint8Array> {
  const bytes = readVector("sev-snp/trustee/test-vlek-report.bin");
  new DataView(bytes.buffer).setUint32(0x48, 0, true); // signed by a VCEK
  new DataView(bytes.buffer).setUint32(0x30, 0, true); // VMPL 0
  bytes.set(HWID, 0x1a0);
  if (pki.product === "turin") {
    bytes[0x188] = 0x1a;
    bytes[0x189] = 0x02;
    setU64(bytes, 0x180, 0x2a00000004030201n); // fmc 1, bl 2, tee 3, snp 4, ucode 42
  } else {
    setU64(bytes, 0x180, 0x2a04000000000302n); // bl 2, tee 3, snp 4, ucode 42
  }
  edit(bytes);
  return signFakeReport(bytes, pki.vcekKey.privateKey);
}

let milan: FakeAmdPki;
let turin: FakeAmdPki;

beforeAll(async () => {
  milan = await makeFakeAmdPki("milan", { bootloader: 2, tee: 3, snp: 4, microcode: 42 }, HWID, FROM);
  turin = await makeFakeAmdPki(
    "turin",
    { bootloader: 2, tee: 3, snp: 4, microcode: 42, fmc: 1 },
    HWID.subarray(0, 8),
    FROM,
  );
}, 60_000);

const codes = (r: { errors: readonly { code: string }[] }) => r.errors.map((e) => e.code);

describe("fake AMD PKI injected through roots", () => {
  it("a Milan report verifies with the injected roots (and CRL that revokes nothing)", async () => {
    const crl = await makeFakeCrl(milan, { thisUpdate: FROM, nextUpdate: new Date("2026-01-01T00:00:00Z") });
    const result = await verifySevSnpReport(await report(milan), {
      vcek: milan.vcekDer,
      now: NOW,
      roots: { milan: milan.roots },
      crl,
      cache: false,
    });
    expect(codes(result)).toEqual([]);
    expect(result.checks.find((c) => c.id === "crl")?.status).toBe("pass");
  });

  it("the pinned AMD roots reject the fake chain", async () => {
    const bytes = await report(milan);
    const pinned = await verifySevSnpReport(bytes, { vcek: milan.vcekDer, now: NOW, cache: false });
    // The fake issuer name ("O=Fake Micro Devices, CN=SEV-Milan") matches no pinned ASK.
    expect(codes(pinned)).toEqual(["certificate_chain_incomplete"]);
    const withChain = await verifySevSnpReport(bytes, {
      vcek: milan.vcekDer,
      chain: [milan.askDer, milan.arkDer],
      now: NOW,
      cache: false,
    });
    expect(codes(withChain)).toEqual(["snp_ark_mismatch"]);
    const realAsk = await verifySevSnpReport(bytes, {
      vcek: milan.vcekDer,
      chain: AMD_ASK_MILAN_PEM,
      now: NOW,
      roots: { milan: milan.roots },
      cache: false,
    });
    expect(codes(realAsk)).toEqual(["certificate_chain_incomplete"]);
  });

  it("a CRL revoking the ASK → snp_certificate_revoked", async () => {
    const crl = await makeFakeCrl(milan, {
      thisUpdate: FROM,
      nextUpdate: new Date("2026-01-01T00:00:00Z"),
      serials: [milan.askSerial],
    });
    const result = await verifySevSnpReport(await report(milan), {
      vcek: milan.vcekDer,
      now: NOW,
      roots: { milan: milan.roots },
      crl,
      cache: false,
    });
    expect(codes(result)).toEqual(["snp_certificate_revoked"]);
  });

  it("a CRL past its nextUpdate → crl_expired", async () => {
    const crl = await makeFakeCrl(milan, { thisUpdate: FROM, nextUpdate: new Date("2025-02-01T00:00:00Z") });
    const result = await verifySevSnpReport(await report(milan), {
      vcek: milan.vcekDer,
      now: NOW,
      roots: { milan: milan.roots },
      crl,
      cache: false,
    });
    expect(codes(result)).toEqual(["crl_expired"]);
  });

  it("a CRL signed by the ASK instead of the ARK → crl_signature_invalid", async () => {
    const crl = await makeFakeCrl(milan, {
      thisUpdate: FROM,
      nextUpdate: new Date("2026-01-01T00:00:00Z"),
      signer: milan.askKey.privateKey,
    });
    const result = await verifySevSnpReport(await report(milan), {
      vcek: milan.vcekDer,
      now: NOW,
      roots: { milan: milan.roots },
      crl,
      cache: false,
    });
    expect(codes(result)).toEqual(["crl_signature_invalid"]);
  });

  it("a CRL with a chain that did not verify is not trusted → snp_crl_unchecked", async () => {
    const crl = await makeFakeCrl(milan, { thisUpdate: FROM, nextUpdate: new Date("2026-01-01T00:00:00Z") });
    const result = await verifySevSnpReport(await report(milan), {
      vcek: milan.vcekDer,
      now: NOW,
      crl,
      cache: false,
    });
    expect(codes(result)).toEqual(["certificate_chain_incomplete", "snp_crl_unchecked"]);
  });

  it("a v5 report verifies; masked chip ID skips the hwID binding", async () => {
    const v5 = await report(milan, (b) => {
      b[0] = 5;
      b[0x1f8] = 1;
    });
    expect(
      codes(
        await verifySevSnpReport(v5, {
          vcek: milan.vcekDer,
          now: NOW,
          roots: { milan: milan.roots },
          cache: false,
        }),
      ),
    ).toEqual([]);
    const masked = await report(milan, (b) => {
      b.fill(0, 0x1a0, 0x1e0);
      new DataView(b.buffer).setUint32(0x48, 2, true);
    });
    const result = await verifySevSnpReport(masked, {
      vcek: milan.vcekDer,
      now: NOW,
      roots: { milan: milan.roots },
      cache: false,
    });
    expect(codes(result)).toEqual([]);
    expect(result.checks.find((c) => c.id === "chip_id_binding")).toMatchObject({
      status: "skip",
      detail: "the host masked CHIP_ID",
    });
  });

  it("Turin: CPUID 1A/02 selects the Turin TCB layout (FMC) and the 8-byte hwID", async () => {
    const result = await verifySevSnpReport(await report(turin), {
      vcek: turin.vcekDer,
      now: NOW,
      roots: { turin: turin.roots },
      cache: false,
    });
    expect(codes(result)).toEqual([]);
    expect(result).toMatchObject({
      product: "turin",
      reportedTcb: { fmc: 1, bootloader: 2, tee: 3, snp: 4, microcode: 42 },
    });
  });

  it("Turin: an FMC SPL that differs from the certificate → snp_vcek_tcb_mismatch", async () => {
    const bytes = await report(turin, (b) => {
      b[0x180] = 2;
    });
    const result = await verifySevSnpReport(bytes, {
      vcek: turin.vcekDer,
      now: NOW,
      roots: { turin: turin.roots },
      cache: false,
    });
    expect(codes(result)).toEqual(["snp_vcek_tcb_mismatch"]);
  });

  it("Turin policy: minimum FMC is checked", async () => {
    const result = await verifySevSnpReport(await report(turin), {
      vcek: turin.vcekDer,
      now: NOW,
      roots: { turin: turin.roots },
      policy: { minimumTcb: { fmc: 2 } },
      cache: false,
    });
    expect(result).toMatchObject({ verified: true, ok: false });
    expect(codes(result)).toEqual(["snp_policy_tcb_too_low"]);
  });

  it("Turin KDS fetch uses the 8-byte hwID and fmcSPL, then verifies the served VCEK", async () => {
    const url =
      "https://kdsintf.amd.com/vcek/v1/Turin/030a11181f262d34?blSPL=2&teeSPL=3&snpSPL=4&ucodeSPL=42&fmcSPL=1";
    const requests: string[] = [];
    const fetch = (async (input: RequestInfo | URL) => {
      requests.push(String(input));
      return String(input) === url
        ? new Response(turin.vcekDer as BodyInit)
        : new Response("", { status: 404 });
    }) as typeof globalThis.fetch;
    const result = await verifySevSnpReport(await report(turin), {
      now: NOW,
      roots: { turin: turin.roots },
      fetch,
      cache: false,
    });
    expect(requests).toEqual([url]);
    expect(codes(result)).toEqual([]);
  });

  it("an ASK without the CA flag → certificate_not_ca", async () => {
    const pki = await makeFakeAmdPki("milan", { bootloader: 2, tee: 3, snp: 4, microcode: 42 }, HWID, FROM, {
      askIsCa: false,
    });
    const result = await verifySevSnpReport(await report(pki), {
      vcek: pki.vcekDer,
      now: NOW,
      roots: { milan: pki.roots },
      cache: false,
    });
    expect(codes(result)).toEqual(["certificate_not_ca"]);
  });

  it("a VCEK issued directly by the ARK → snp_chain_shape_invalid", async () => {
    const pki = await makeFakeAmdPki("milan", { bootloader: 2, tee: 3, snp: 4, microcode: 42 }, HWID, FROM, {
      vcekIssuedByArk: true,
    });
    const result = await verifySevSnpReport(await report(pki), {
      vcek: pki.vcekDer,
      now: NOW,
      roots: { milan: pki.roots },
      cache: false,
    });
    // The product check reads the issuer CN ("ARK-Milan"), which names no product: the others agree.
    expect(codes(result)).toEqual(["snp_chain_shape_invalid"]);
  });
});

describe("AMD roles by position (issue #11)", () => {
  const rolePki = (options: Parameters<typeof makeFakeAmdPki>[4]) =>
    makeFakeAmdPki("milan", { bootloader: 2, tee: 3, snp: 4, microcode: 42 }, HWID, FROM, options);
  const verifyWith = async (pki: FakeAmdPki, chain?: Uint8Array[]) =>
    codes(
      await verifySevSnpReport(await report(pki), {
        vcek: pki.vcekDer,
        now: NOW,
        roots: { milan: pki.roots },
        ...(chain ? { chain } : {}),
        cache: false,
      }),
    );

  it("a leaf that is not named SEV-VCEK is refused", async () => {
    expect(await verifyWith(await rolePki({ vcekSubject: "SEV-Milan-Leaf" }))).toContain(
      "snp_chain_role_invalid",
    );
  });

  it("an ASK whose key usage does not allow certificate signing is refused", async () => {
    expect(await verifyWith(await rolePki({ askKeyUsage: 0x80 }))).toContain("snp_chain_role_invalid");
  });

  it("an ASK with keyCertSign is accepted", async () => {
    expect(await verifyWith(await rolePki({ askKeyUsage: 0x06 }))).toEqual([]);
  });

  it("a supplied certificate off the path is refused", async () => {
    expect(await verifyWith(milan, [milan.askDer, turin.askDer, milan.arkDer])).toEqual([
      "certificate_off_path",
    ]);
  });
});
