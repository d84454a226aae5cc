/**
 * Policies are parsed once, at the edge: each `parse…Policy` marks the tree it returns, and hands a
 * marked tree back as is, so a bundle policy parsed by the caller (its `cpu.tdx`, `cpu.sevSnp` and
 * `gpu.nvidia` trees included) is not read again by the verifiers and validators it reaches. The mark
 * is object identity (a WeakSet): it decides no result, only whether reading is needed.
 */
const parsed = new WeakSet<object>();

/** Marks a tree a parser built (never the caller's own object, which the caller may change). */
export function markParsedPolicy<T extends object>(policy: T): T {
  parsed.add(policy);
  return policy;
}

/** True for a tree one of the policy parsers returned. */
export function isParsedPolicy(value: unknown): boolean {
  return typeof value === "object" && value !== null && parsed.has(value);
}
