/**
 * A node's own error answer met on the way (the attestation request answered 401, 402, 404, 503…),
 * kept as bytes so it can be handed to the caller as the call's `Response`: the caller's OpenAI
 * client then raises its usual `APIError`. It never carries model output.
 */
export class UpstreamResponse extends Error {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly body: Uint8Array;

  private constructor(status: number, statusText: string, headers: Headers, body: Uint8Array) {
    super(`the node answered ${status}`);
    this.name = "UpstreamResponse";
    this.status = status;
    this.statusText = statusText;
    this.headers = headers;
    this.body = body;
  }

  static async read(response: Response): Promise<UpstreamResponse> {
    const body = new Uint8Array(await response.arrayBuffer().catch(() => new ArrayBuffer(0)));
    const headers = new Headers(response.headers);
    headers.delete("content-length");
    headers.delete("content-encoding");
    return new UpstreamResponse(response.status, response.statusText, headers, body);
  }

  /** A fresh `Response` with the same status, headers and body. */
  toResponse(): Response {
    return new Response(this.body.length > 0 ? new Uint8Array(this.body) : null, {
      status: this.status,
      statusText: this.statusText,
      headers: this.headers,
    });
  }
}
