/**
 * A readable sentence for a schema issue. The schemas use `zod/mini` (a few kB in a browser bundle
 * instead of ~95 kB gzip), which carries no message locale: the messages are written here, from the
 * issue's own fields, rather than by configuring zod globally for the application.
 */
export function describeIssue(given: { readonly code?: string; readonly message: string }): string {
  const issue = given as {
    readonly code?: string;
    readonly message: string;
    readonly [key: string]: unknown;
  };
  const bound = (value: unknown) => (typeof value === "bigint" ? value.toString() : String(value));
  const sized = issue.origin === "string" ? " characters" : issue.origin === "array" ? " items" : "";
  switch (issue.code) {
    case "invalid_type":
      return `expected ${String(issue.expected)}`;
    case "too_big":
      return `must be ${issue.inclusive === false ? "less than" : "at most"} ${bound(issue.maximum)}${sized}`;
    case "too_small":
      return `must be ${issue.inclusive === false ? "more than" : "at least"} ${bound(issue.minimum)}${sized}`;
    case "invalid_value":
      return `must be ${(issue.values as unknown[]).map((v) => JSON.stringify(v)).join(" or ")}`;
    case "invalid_union":
      return "matches none of the allowed shapes";
    case "invalid_format":
      return issue.message !== "Invalid input"
        ? issue.message
        : `must match ${String(issue.pattern ?? issue.format)}`;
    case "unrecognized_keys":
      return `unknown keys ${(issue.keys as string[]).join(", ")}`;
    default:
      return issue.message;
  }
}
