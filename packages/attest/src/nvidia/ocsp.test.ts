import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { describe, expect, it } from "vitest";
import { AttestError } from "../common/errors.js";
import { CN, distinguishedName, generateTestKey, makeTestCertificate } from "../common/testing/fake-pki.js";
import { type Certificate, parseCertificate, parseCertificates } from "../common/x509.js";
import { buildOcspRequest, checkOcspResponse, checkRevocation, OcspCache } from "./ocsp.js";
import { AT, bytes, NV, text } from "./test-vectors.js";
import { verifyNvidiaEvidence } from "./verify.js";

/** Tests about other checks accept unchecked freshness and measurements by name (issue #11 defaults). */
const UNCHECKED = { policy: { requireNonce: false, requireRimMatch: false } } as const;

/**
 * A local PKI made in the test (P-384 CA + leaf) and an OCSP responder signing with the CA key, so
 * the online path runs end to end without NVIDIA's responder. Nothing here is NVIDIA's key.
 */

async function makeCert(
  cn: string,
  issuerCn: string,
  publicKey: CryptoKey,
  signingKey: CryptoKey,
  serial: number,
  ca: boolean,
): Promise<Certificate> {
  return parseCertificate(
    await makeTestCertificate({
      subject: [[CN, cn]],
      issuer: [[CN, issuerCn]],
      serial,
      publicKey,
      signingKey,
      hash: "SHA-384",
      basicConstraints: { ca },
    }),
  );
}

async function localPki() {
  const caKeys = await generateTestKey("P-384");
  const leafKeys = await generateTestKey("P-384");
  const ca = await makeCert("Test OCSP CA", "Test OCSP CA", caKeys.publicKey, caKeys.privateKey, 1, true);
  const leaf = await makeCert(
    "Test Leaf",
    "Test OCSP CA",
    leafKeys.publicKey,
    caKeys.privateKey,
    4242,
    false,
  );
  return { ca, leaf, caKey: caKeys.privateKey };
}

type Status = "good" | "revoked" | "unknown";

/** Builds a signed BasicOCSPResponse answering the request body with `status`. */
async function respond(
  requestDer: Uint8Array,
  signer: CryptoKey,
  status: Status,
  thisUpdate: Date,
  nextUpdate: Date,
  echoNonce = true,
): Promise<Uint8Array> {
  const request = new pkijs.OCSPRequest({ schema: asn1js.fromBER(requestDer as BufferSource).result });
  const reqCert = request.tbsRequest.requestList[0]?.reqCert as pkijs.CertID;
  const certStatus =
    status === "good"
      ? new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 } })
      : status === "revoked"
        ? new asn1js.Constructed({
            idBlock: { tagClass: 3, tagNumber: 1 },
            value: [
              new asn1js.GeneralizedTime({ valueDate: new Date("2025-01-01T00:00:00Z") }),
              new asn1js.Constructed({
                idBlock: { tagClass: 3, tagNumber: 0 },
                value: [new asn1js.Enumerated({ value: 6 })],
              }),
            ],
          })
        : new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 2 } });
  const basic = new pkijs.BasicOCSPResponse();
  basic.tbsResponseData.responderID = distinguishedName([[CN, "Test OCSP CA"]]);
  basic.tbsResponseData.producedAt = thisUpdate;
  basic.tbsResponseData.responses = [
    new pkijs.SingleResponse({ certID: reqCert, certStatus, thisUpdate, nextUpdate }),
  ];
  const nonce = request.tbsRequest.requestExtensions?.find((e) => e.extnID === "1.3.6.1.5.5.7.48.1.2");
  if (nonce && echoNonce) basic.tbsResponseData.responseExtensions = [nonce];
  await basic.sign(signer, "SHA-384");
  const response = new pkijs.OCSPResponse({
    responseStatus: new asn1js.Enumerated({ value: 0 }),
    responseBytes: new pkijs.ResponseBytes({
      responseType: "1.3.6.1.5.5.7.48.1.1",
      response: new asn1js.OctetString({ valueHex: basic.toSchema().toBER(false) }),
    }),
  });
  return new Uint8Array(response.toSchema().toBER(false));
}

function responder(
  signer: CryptoKey,
  status: Status,
  calls: { n: number },
  when = { thisUpdate: new Date("2026-05-31T00:00:00Z"), nextUpdate: new Date("2026-06-07T00:00:00Z") },
) {
  return (async (_url: string, init: RequestInit) => {
    calls.n++;
    const body = await respond(
      new Uint8Array(init.body as Uint8Array),
      signer,
      status,
      when.thisUpdate,
      when.nextUpdate,
    );
    return new Response(body as BodyInit, {
      status: 200,
      headers: { "content-type": "application/ocsp-response" },
    });
  }) as unknown as typeof fetch;
}

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return "no error";
  } catch (error) {
    return AttestError.isInstance(error) ? error.code : String(error);
  }
};

describe("OCSP request construction", () => {
  it("builds a DER OCSPRequest with a SHA-384 CertID for the real device leaf and a nonce", async () => {
    const chain = parseCertificates(text(NV.nvtrustChain));
    const der = await buildOcspRequest(
      chain[0] as Certificate,
      chain[1] as Certificate,
      new Uint8Array(32).fill(7),
    );
    const request = new pkijs.OCSPRequest({ schema: asn1js.fromBER(der as BufferSource).result });
    const certId = request.tbsRequest.requestList[0]?.reqCert;
    expect(certId?.hashAlgorithm.algorithmId).toBe("2.16.840.1.101.3.4.2.2");
    expect(certId?.issuerNameHash.valueBlock.valueHexView.length).toBe(48);
    expect(
      Buffer.from(certId?.serialNumber.valueBlock.valueHexView ?? [])
        .toString("hex")
        .replace(/^0+/, ""),
    ).toBe((chain[0] as Certificate).serialNumber.replace(/^0+/, ""));
    expect(request.tbsRequest.requestExtensions?.[0]?.extnID).toBe("1.3.6.1.5.5.7.48.1.2");
  });
});

describe("OCSP with a locally generated responder", () => {
  it("good: checked, cached until nextUpdate", async () => {
    const { ca, leaf, caKey } = await localPki();
    const calls = { n: 0 };
    const cache = new OcspCache();
    const options = { now: AT.device, fetch: responder(caKey, "good", calls), cache, label: "test" };
    const statuses = await checkRevocation([leaf, ca], options);
    expect(statuses.map((s) => s.status)).toEqual(["good"]);
    await checkRevocation([leaf, ca], options);
    expect(calls.n).toBe(1);
    await checkRevocation([leaf, ca], {
      ...options,
      now: new Date("2026-06-08T00:00:00Z"),
      fetch: responder(caKey, "good", calls, {
        thisUpdate: new Date("2026-06-07T00:00:00Z"),
        nextUpdate: new Date("2026-06-14T00:00:00Z"),
      }),
    });
    expect(calls.n).toBe(2);
  });

  it("revoked (certificateHold) and unknown are rejected with their codes", async () => {
    const { ca, leaf, caKey } = await localPki();
    const calls = { n: 0 };
    expect(
      await codeOf(
        checkRevocation([leaf, ca], {
          now: AT.device,
          fetch: responder(caKey, "revoked", calls),
          cache: new OcspCache(),
          label: "t",
        }),
      ),
    ).toBe("nvidia_certificate_revoked");
    expect(
      await codeOf(
        checkRevocation([leaf, ca], {
          now: AT.device,
          fetch: responder(caKey, "unknown", calls),
          cache: new OcspCache(),
          label: "t",
        }),
      ),
    ).toBe("nvidia_ocsp_status_unknown");
  });

  it("reports the revocation reason", async () => {
    const { ca, leaf, caKey } = await localPki();
    const der = await respond(
      await buildOcspRequest(leaf, ca),
      caKey,
      "revoked",
      new Date("2026-05-31T00:00:00Z"),
      new Date("2026-06-07T00:00:00Z"),
    );
    const status = await checkOcspResponse(der, leaf, ca, { now: AT.device });
    expect([status.status, status.revocationReason]).toEqual(["revoked", "certificateHold"]);
  });

  it("a response signed by another key, a stale response, or garbage is invalid", async () => {
    const { ca, leaf, caKey } = await localPki();
    const other = await localPki();
    const calls = { n: 0 };
    expect(
      await codeOf(
        checkRevocation([leaf, ca], {
          now: AT.device,
          fetch: responder(other.caKey, "good", calls),
          cache: new OcspCache(),
          label: "t",
        }),
      ),
    ).toBe("nvidia_ocsp_response_invalid");
    const stale = await respond(
      await buildOcspRequest(leaf, ca),
      caKey,
      "good",
      new Date("2026-01-01T00:00:00Z"),
      new Date("2026-01-08T00:00:00Z"),
    );
    expect(await codeOf(checkOcspResponse(stale, leaf, ca, { now: AT.device }))).toBe(
      "nvidia_ocsp_response_invalid",
    );
    expect(await codeOf(checkOcspResponse(new Uint8Array([1, 2, 3]), leaf, ca, { now: AT.device }))).toBe(
      "nvidia_ocsp_response_invalid",
    );
  });

  it("an unreachable responder is retryable collateral-unavailable", async () => {
    const { ca, leaf } = await localPki();
    const down = (async () => new Response("no", { status: 503 })) as unknown as typeof fetch;
    expect(
      await codeOf(
        checkRevocation([leaf, ca], { now: AT.device, fetch: down, cache: new OcspCache(), label: "t" }),
      ),
    ).toBe("nvidia_ocsp_unavailable");
  });
});

describe("verifyNvidiaEvidence online vs offline", () => {
  it("offline never calls fetch and says revocationChecked: false", async () => {
    let called = false;
    const spy = (async () => {
      called = true;
      throw new Error("must not be called");
    }) as unknown as typeof fetch;
    const r = await verifyNvidiaEvidence(bytes(NV.switchReport), {
      certChain: text(NV.switchChain),
      rims: [text(NV.rims.switchBios)],
      now: AT.switchRim,
      offline: true,
      ...UNCHECKED,
      fetch: spy,
    });
    expect([r.ok, r.revocationChecked, called]).toEqual([true, false, false]);
  });

  it("online: asks the responder about every device certificate; a response not signed by NVIDIA is rejected", async () => {
    const { caKey } = await localPki();
    const calls = { n: 0 };
    const r = await verifyNvidiaEvidence(bytes(NV.switchReport), {
      certChain: text(NV.switchChain),
      rims: [],
      now: AT.switchRim,
      ...UNCHECKED,
      fetch: responder(caKey, "good", calls),
      cache: { ocsp: new OcspCache() },
    });
    expect(r.errors.map((e) => e.code)).toEqual(["nvidia_ocsp_response_invalid"]);
    expect(r.revocationChecked).toBe(false);
    expect(calls.n).toBe(1);
  });

  it("online with the responder down: collateral unavailable is thrown (retryable), not a verdict", async () => {
    const down = (async () => {
      throw new Error("offline network");
    }) as unknown as typeof fetch;
    expect(
      await codeOf(
        verifyNvidiaEvidence(bytes(NV.switchReport), {
          certChain: text(NV.switchChain),
          rims: [],
          now: AT.switchRim,
          fetch: down,
          cache: { ocsp: new OcspCache() },
        }),
      ),
    ).toBe("nvidia_ocsp_unavailable");
  });
});
