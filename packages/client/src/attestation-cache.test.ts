import { describe, expect, it } from "vitest";
import { AttestationCache, type AttestedWorker } from "./attestation-cache.js";

const entry = (expiresAt: number, worker = "w") => ({ worker, expiresAt }) as unknown as AttestedWorker;

describe("AttestationCache", () => {
  it("serves an entry until it expires, then drops it", () => {
    const cache = new AttestationCache();
    cache.set("k", entry(1000));
    expect(cache.get("k", 999)?.worker).toBe("w");
    expect(cache.get("k", 1000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("deletes only the entry it was given (a newer attestation stays)", () => {
    const cache = new AttestationCache();
    const old = entry(10);
    const fresh = entry(10, "new");
    cache.set("k", fresh);
    cache.delete("k", old);
    expect(cache.get("k", 0)?.worker).toBe("new");
    cache.delete("k", fresh);
    expect(cache.get("k", 0)).toBeUndefined();
  });

  it("runs one attestation for concurrent callers, and caches nothing on failure", async () => {
    const cache = new AttestationCache();
    let calls = 0;
    const attest = async () => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return entry(Number.POSITIVE_INFINITY);
    };
    await Promise.all([cache.getOrAttest("k", 0, attest), cache.getOrAttest("k", 0, attest)]);
    expect(calls).toBe(1);
    await expect(
      cache.getOrAttest("other", 0, async () => {
        throw new Error("refused");
      }),
    ).rejects.toThrow("refused");
    expect(cache.get("other", 0)).toBeUndefined();
  });

  it("keeps at most maxEntries, dropping the oldest", () => {
    const cache = new AttestationCache({ maxEntries: 2 });
    cache.set("a", entry(10));
    cache.set("b", entry(10));
    cache.set("c", entry(10));
    expect(cache.get("a", 0)).toBeUndefined();
    expect(cache.size).toBe(2);
  });
});
