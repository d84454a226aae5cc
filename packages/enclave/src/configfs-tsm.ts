import { randomUUID } from "node:crypto";
import * as nodeFs from "node:fs/promises";
import { join } from "node:path";
import type { CpuEvidence } from "@peercycles/attest/bundle";
import { EnclaveError } from "./errors.js";
import type { CpuEvidenceSource } from "./provider.js";
import { parseSevSnpCertTable, SEV_SNP_CERT_GUIDS } from "./sev-snp-cert-table.js";

/** Where Linux mounts the configfs-tsm report interface (Documentation/ABI/testing/configfs-tsm). */
export const CONFIGFS_TSM_REPORT_ROOT = "/sys/kernel/config/tsm/report";

/** The file operations the provider needs; tests inject a directory that mimics configfs. */
export interface TsmFileSystem {
  mkdir(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
  /** Resolves when `path` exists, rejects otherwise. */
  access(path: string): Promise<void>;
}

const nodeFileSystem: TsmFileSystem = {
  mkdir: async (path) => {
    await nodeFs.mkdir(path);
  },
  rmdir: (path) => nodeFs.rmdir(path),
  readFile: async (path) => new Uint8Array(await nodeFs.readFile(path)),
  writeFile: (path, data) => nodeFs.writeFile(path, data),
  access: (path) => nodeFs.access(path),
};

/** Options of {@link ConfigfsTsmProvider}; everything has a production default. */
export interface ConfigfsTsmOptions {
  /** Report root; default {@link CONFIGFS_TSM_REPORT_ROOT}. */
  readonly root?: string;
  /** SEV-SNP VMPL to request (0..3), written to `privlevel`. Omitted: the kernel's default. */
  readonly privlevel?: number;
  /** Attempts when another writer raced us (generation changed). Default 3. */
  readonly attempts?: number;
  /** File operations; default node:fs/promises. */
  readonly fs?: TsmFileSystem;
}

/** The raw result of one configfs-tsm report. */
export interface TsmReport {
  /** `provider`: "tdx_guest" or "sev_guest". */
  readonly provider: string;
  readonly outblob: Uint8Array;
  /** `auxblob` (SEV-SNP certificate table), when the provider has one. */
  readonly auxblob?: Uint8Array;
  /** `generation` after the read. */
  readonly generation: number;
}

const PROVIDERS: Record<string, CpuEvidence["kind"]> = { tdx_guest: "tdx", sev_guest: "sev-snp" };

/**
 * Real CPU evidence on a TDX or SEV-SNP guest through the kernel's configfs-tsm interface: create a
 * report entry, write the 64-byte report data to `inblob` (and `privlevel` when set), read `outblob`
 * (the TDX quote or SNP report) and `auxblob` (SNP certificates), and check that `generation` moved
 * by exactly our writes, so the quote is for our `inblob` and not a concurrent writer's.
 *
 * @example
 * ```ts
 * const tsm = new ConfigfsTsmProvider();
 * const cpu = await tsm.getCpuEvidence(bindingReportData(bindingBytes));
 * ```
 */
export class ConfigfsTsmProvider implements CpuEvidenceSource {
  readonly #root: string;
  readonly #privlevel: number | undefined;
  readonly #attempts: number;
  readonly #fs: TsmFileSystem;

  constructor(options: ConfigfsTsmOptions = {}) {
    this.#root = options.root ?? CONFIGFS_TSM_REPORT_ROOT;
    if (
      options.privlevel !== undefined &&
      (!Number.isInteger(options.privlevel) || options.privlevel < 0 || options.privlevel > 3)
    ) {
      throw new EnclaveError("enclave_tsm_argument_invalid", "privlevel must be an integer 0..3");
    }
    this.#privlevel = options.privlevel;
    this.#attempts = Math.max(1, options.attempts ?? 3);
    this.#fs = options.fs ?? nodeFileSystem;
  }

  /**
   * One report for `reportData` (exactly 64 bytes).
   * @throws EnclaveError `enclave_tsm_unavailable` (no configfs-tsm), `enclave_tsm_generation_changed`
   *   (raced on every attempt; retryable), `enclave_tsm_io_failed`, `enclave_tsm_argument_invalid`
   */
  async getReport(reportData: Uint8Array): Promise<TsmReport> {
    if (!(reportData instanceof Uint8Array) || reportData.length !== 64) {
      throw new EnclaveError("enclave_tsm_argument_invalid", "report data must be exactly 64 bytes");
    }
    try {
      await this.#fs.access(this.#root);
    } catch (cause) {
      throw new EnclaveError(
        "enclave_tsm_unavailable",
        `configfs-tsm is not available at ${this.#root} (not a TDX/SEV-SNP guest, or configfs not mounted)`,
        { cause },
      );
    }
    let lastGenerations: [number, number] = [0, 0];
    for (let attempt = 0; attempt < this.#attempts; attempt++) {
      const entry = join(this.#root, `peercycles-${randomUUID()}`);
      await this.#io("create report entry", () => this.#fs.mkdir(entry));
      try {
        const provider = new TextDecoder()
          .decode(await this.#io("read provider", () => this.#fs.readFile(join(entry, "provider"))))
          .trim();
        const before = await this.#generation(entry);
        let writes = 0;
        if (this.#privlevel !== undefined) {
          await this.#io("write privlevel", () =>
            this.#fs.writeFile(join(entry, "privlevel"), `${this.#privlevel}\n`),
          );
          writes++;
        }
        await this.#io("write inblob", () => this.#fs.writeFile(join(entry, "inblob"), reportData));
        writes++;
        const outblob = await this.#io("read outblob", () => this.#fs.readFile(join(entry, "outblob")));
        const auxblob = await this.#optional(join(entry, "auxblob"));
        const after = await this.#generation(entry);
        if (after !== before + writes) {
          lastGenerations = [before + writes, after];
          continue;
        }
        if (outblob.length === 0)
          throw new EnclaveError("enclave_tsm_io_failed", "configfs-tsm returned an empty outblob");
        return {
          provider,
          outblob,
          ...(auxblob && auxblob.length > 0 ? { auxblob } : {}),
          generation: after,
        };
      } finally {
        await this.#fs.rmdir(entry).catch(() => undefined);
      }
    }
    throw new EnclaveError(
      "enclave_tsm_generation_changed",
      `configfs-tsm generation changed while reading the report on all ${this.#attempts} attempts (expected ${lastGenerations[0]}, read ${lastGenerations[1]}): another writer shares the entry`,
      { retryable: true, details: { expected: lastGenerations[0], actual: lastGenerations[1] } },
    );
  }

  /** CPU evidence for a bundle: the quote/report as `evidence`; SNP certificates from `auxblob`. */
  async getCpuEvidence(reportData: Uint8Array): Promise<CpuEvidence> {
    const report = await this.getReport(reportData);
    const kind = PROVIDERS[report.provider];
    if (!kind) {
      throw new EnclaveError(
        "enclave_tsm_provider_unknown",
        `configfs-tsm provider "${report.provider}" is not tdx_guest or sev_guest`,
      );
    }
    if (kind === "tdx") return { kind, evidence: report.outblob, certificates: [] };
    const table = report.auxblob ? parseSevSnpCertTable(report.auxblob) : [];
    const order = [
      SEV_SNP_CERT_GUIDS.vcek,
      SEV_SNP_CERT_GUIDS.vlek,
      SEV_SNP_CERT_GUIDS.ask,
      SEV_SNP_CERT_GUIDS.ark,
    ];
    const certificates = order.flatMap((guid) => table.filter((e) => e.guid === guid).map((e) => e.data));
    return { kind, evidence: report.outblob, certificates };
  }

  async #generation(entry: string): Promise<number> {
    const text = new TextDecoder()
      .decode(await this.#io("read generation", () => this.#fs.readFile(join(entry, "generation"))))
      .trim();
    if (!/^\d+$/.test(text))
      throw new EnclaveError("enclave_tsm_io_failed", `configfs-tsm generation is not a number: "${text}"`);
    return Number(text);
  }

  async #optional(path: string): Promise<Uint8Array | undefined> {
    try {
      return await this.#fs.readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new EnclaveError(
        "enclave_tsm_io_failed",
        `configfs-tsm: cannot read ${path}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  async #io<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (cause) {
      if (EnclaveError.isInstance(cause)) throw cause;
      throw new EnclaveError(
        "enclave_tsm_io_failed",
        `configfs-tsm: cannot ${what}: ${(cause as Error).message}`,
        { cause },
      );
    }
  }
}
