/** The media type of a response, lowercase, without parameters (`""` when absent). */
export function mediaType(response: Response): string {
  return (response.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/** The response's headers for a body the client rewrote: new content type, no length or encoding. */
export function responseHeaders(response: Response, contentType: string): Headers {
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  headers.delete("content-encoding");
  headers.delete("transfer-encoding");
  headers.set("content-type", contentType);
  return headers;
}

/** A JSON `Response` with the status and headers of `response`. */
export function jsonResponse(response: Response, value: unknown): Response {
  return new Response(JSON.stringify(value), {
    status: response.status,
    statusText: response.statusText,
    headers: responseHeaders(response, "application/json"),
  });
}
