/**
 * A fetch between a client and a real node that counts what passes and, when told, alters what the
 * node sends: a bit of the attestation bundle, or a byte of a sealed answer or stream. Tests only.
 */
export type Tampering = "none" | "bundle" | "sealed-answer";

export class TamperingFetch {
  tampering: Tampering = "none";
  attestations = 0;
  posts = 0;

  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (request.method === "GET" && url.pathname === "/v1/attestation") {
      this.attestations++;
      const response = await fetch(request);
      if (this.tampering !== "bundle" || !response.ok) return response;
      const answer = (await response.json()) as { bundle: string };
      const bundle = Buffer.from(answer.bundle, "base64url");
      const at = Math.floor(bundle.length / 2);
      bundle[at] = (bundle[at] as number) ^ 0x01;
      answer.bundle = bundle.toString("base64url");
      return new Response(JSON.stringify(answer), {
        status: response.status,
        headers: { "content-type": "application/json" },
      });
    }
    if (request.method === "POST" && url.pathname.endsWith("/chat/completions")) this.posts++;
    const response = await fetch(request);
    const type = response.headers.get("content-type") ?? "";
    if (this.tampering !== "sealed-answer" || !type.startsWith("message/peer-sealed")) return response;
    const body = new Uint8Array(await response.arrayBuffer());
    const at = Math.floor(body.length / 2);
    body[at] = (body[at] as number) ^ 0x01;
    return new Response(body as BodyInit, { status: response.status, headers: response.headers });
  };
}
