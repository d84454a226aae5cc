import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { API_ERRORS, apiErrorBody, apiErrorBodySchema, isApiErrorCode } from "./errors.js";

const docs = readFileSync(fileURLToPath(new URL("../../../docs/api-errors.md", import.meta.url)), "utf8");

describe("API errors", () => {
  it("builds OpenAI-shaped bodies", () => {
    const body = apiErrorBody(
      "tier_unknown",
      "peer_tier must be one of open, verified, confidential",
      "peer_tier",
    );
    expect(apiErrorBodySchema.parse(body)).toEqual(body);
    expect(body.error).toEqual({
      message: "peer_tier must be one of open, verified, confidential",
      type: "invalid_request_error",
      code: "tier_unknown",
      param: "peer_tier",
    });
    expect(apiErrorBody("internal_error").error.message).toBe("Internal error.");
    expect(isApiErrorCode("job_timeout")).toBe(true);
    expect(isApiErrorCode("toString")).toBe(false);
  });

  it("are all listed in docs/api-errors.md with their status and type", () => {
    const rows = docs.split("\n").filter((line) => line.startsWith("| `"));
    expect(rows).toHaveLength(Object.keys(API_ERRORS).length);
    for (const [code, error] of Object.entries(API_ERRORS)) {
      expect(docs).toContain(`| \`${code}\` | ${error.status} | \`${error.type}\` |`);
    }
  });
});
