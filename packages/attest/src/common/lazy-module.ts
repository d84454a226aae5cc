/**
 * Heavy dependencies (pkijs, the XML-DSig and JOSE stacks, @noble/curves' Ed25519 for receipts, the
 * bundle verification and each kind's verifier behind it, node:crypto) are loaded on the first call
 * that needs them, not when a subpath is imported: `import "@peercycles/attest/tdx"` must stay cheap
 * for an app that only seals, or verifies one kind of evidence. Bundlers turn each `import()` into a
 * separate chunk, fetched only on the paths that use it. What a synchronous export needs stays a
 * static import: asn1js in the kind subpaths (`parseCertificate`, `parsePckExtensions`; bundled into
 * Node's build, see tsup.config.ts) and cbor-x (`decodeBundle`); `/bundle` loads asn1js with
 * `verifyBundle`'s first call.
 */

/**
 * Returns a loader that imports a module once and hands every caller the same promise. A failed
 * import is not remembered, so a transient failure (a chunk that did not load) can be retried.
 * @example
 * const loadPkijs = lazyModule(() => import("pkijs"));
 * const pkijs = await loadPkijs();
 */
export function lazyModule<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
