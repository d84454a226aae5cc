import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fromHex, toHex } from "../common/bytes.js";
import type { TdxCollateral } from "./collateral.js";
import type { CachedCollateral, TdxCollateralCache } from "./collateral-fetcher.js";

/**
 * On-disk collateral cache for Node (the CLI uses it). Kept out of `@peercycles/attest/tdx`'s entry so
 * browser bundles never load `node:fs`. One JSON file per FMSPC + TEE type + CA; entries past their
 * earliest `nextUpdate` are ignored by the fetcher and overwritten on the next fetch. The files hold
 * collateral exactly as served; it is re-verified on every use, so a tampered file fails verification.
 */
export class DiskCollateralCache implements TdxCollateralCache {
  constructor(private readonly directory: string) {}

  private file(key: string): string {
    return join(this.directory, `${key.replace(/[^a-z0-9]+/gi, "_")}.json`);
  }

  get(key: string): CachedCollateral | undefined {
    try {
      const stored = JSON.parse(readFileSync(this.file(key), "utf8")) as {
        nextUpdate: number;
        collateral: Omit<TdxCollateral, "pckCrl" | "rootCaCrl" | "tcbInfo" | "qeIdentity"> & {
          pckCrl: string;
          rootCaCrl: string;
          tcbInfo: { body: string; signature: string; issuerChain: string };
          qeIdentity: { body: string; signature: string; issuerChain: string };
        };
      };
      const c = stored.collateral;
      return {
        nextUpdate: stored.nextUpdate,
        collateral: {
          kind: "tdx-collateral",
          tcbInfo: { ...c.tcbInfo, signature: fromHex(c.tcbInfo.signature) },
          qeIdentity: { ...c.qeIdentity, signature: fromHex(c.qeIdentity.signature) },
          pckCrl: fromHex(c.pckCrl),
          pckCrlIssuerChain: c.pckCrlIssuerChain,
          rootCaCrl: fromHex(c.rootCaCrl),
        },
      };
    } catch {
      // A missing or unreadable entry is a miss, never an error.
      return undefined;
    }
  }

  set(key: string, value: CachedCollateral): void {
    const c = value.collateral;
    const stored = {
      nextUpdate: value.nextUpdate,
      collateral: {
        kind: c.kind,
        tcbInfo: { ...c.tcbInfo, signature: toHex(c.tcbInfo.signature) },
        qeIdentity: { ...c.qeIdentity, signature: toHex(c.qeIdentity.signature) },
        pckCrl: toHex(c.pckCrl),
        pckCrlIssuerChain: c.pckCrlIssuerChain,
        rootCaCrl: toHex(c.rootCaCrl),
      },
    };
    mkdirSync(this.directory, { recursive: true });
    const target = this.file(key);
    // Write then rename, so a concurrent reader never sees half a file.
    const temporary = `${target}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(stored));
    renameSync(temporary, target);
  }

  delete(key: string): void {
    rmSync(this.file(key), { force: true });
  }

  clear(): void {
    rmSync(this.directory, { recursive: true, force: true });
  }
}
