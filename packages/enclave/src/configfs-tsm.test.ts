import * as fs from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readVector } from "@peercycles/internal-vectors";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigfsTsmProvider, type TsmFileSystem } from "./configfs-tsm.js";
import { encodeSevSnpCertTable, SEV_SNP_CERT_GUIDS } from "./sev-snp-cert-table.js";

/**
 * A temporary directory that behaves like /sys/kernel/config/tsm/report: mkdir creates the
 * attribute files, every write to inblob/privlevel bumps `generation`, reading `outblob` returns
 * what the "hardware" produced, rmdir removes the entry. `race` simulates another writer touching
 * the entry between our write and our read, `races` times.
 */
function fakeTsm(
  _root: string,
  hardware: { provider: string; outblob: Uint8Array; auxblob?: Uint8Array; races?: number },
) {
  let races = hardware.races ?? 0;
  const writes: Record<string, Uint8Array | string>[] = [];
  const bump = async (entry: string) => {
    const gen = Number(await fs.readFile(join(entry, "generation"), "utf8"));
    await fs.writeFile(join(entry, "generation"), `${gen + 1}\n`);
  };
  const impl: TsmFileSystem = {
    access: (path) => fs.access(path),
    mkdir: async (entry) => {
      await fs.mkdir(entry);
      await fs.writeFile(join(entry, "provider"), `${hardware.provider}\n`);
      await fs.writeFile(join(entry, "generation"), "0\n");
      writes.push({});
    },
    rmdir: (entry) => fs.rm(entry, { recursive: true }),
    writeFile: async (path, data) => {
      await fs.writeFile(path, data);
      (writes.at(-1) as Record<string, Uint8Array | string>)[path.split("/").at(-1) as string] = data;
      await bump(join(path, ".."));
    },
    readFile: async (path) => {
      const name = path.split("/").at(-1);
      const entry = join(path, "..");
      if (name === "outblob") {
        const inblob = await fs.readFile(join(entry, "inblob"));
        if (inblob.length !== 64) throw new Error("inblob not written");
        if (races > 0) {
          races--;
          await bump(entry);
        }
        return hardware.outblob;
      }
      if (name === "auxblob") {
        if (!hardware.auxblob) throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
        return hardware.auxblob;
      }
      return new Uint8Array(await fs.readFile(path));
    },
  };
  return { impl, writes };
}

describe("ConfigfsTsmProvider", () => {
  let root: string;
  beforeEach(async () => {
    root = await fs.mkdtemp(join(tmpdir(), "tsm-report-"));
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  const reportData = new Uint8Array(64).map((_, i) => i);

  it("returns the TDX quote from outblob and removes its entry", async () => {
    const quote = readVector("tdx/phala-dcap-qvl/tdx_quote");
    const { impl, writes } = fakeTsm(root, { provider: "tdx_guest", outblob: quote });
    const provider = new ConfigfsTsmProvider({ root, fs: impl });
    const cpu = await provider.getCpuEvidence(reportData);
    expect(cpu.kind).toBe("tdx");
    expect(cpu.evidence).toEqual(quote);
    expect(cpu.certificates).toEqual([]);
    expect(new Uint8Array(writes[0]?.inblob as Uint8Array)).toEqual(reportData);
    expect(await fs.readdir(root)).toEqual([]);
  });

  it("returns the SNP report and the certificates of auxblob, VCEK first", async () => {
    const report = readVector("sev-snp/google-go-sev-guest/attestation.bin");
    const vcek = readVector("sev-snp/google-go-sev-guest/vcek.testcer");
    const chain = readVector("sev-snp/virtee-sev/cert_chain_milan");
    const auxblob = encodeSevSnpCertTable([
      { guid: SEV_SNP_CERT_GUIDS.ark, data: chain },
      { guid: SEV_SNP_CERT_GUIDS.vcek, data: vcek },
    ]);
    const { impl, writes } = fakeTsm(root, { provider: "sev_guest", outblob: report, auxblob });
    const provider = new ConfigfsTsmProvider({ root, fs: impl, privlevel: 0 });
    const cpu = await provider.getCpuEvidence(reportData);
    expect(cpu.kind).toBe("sev-snp");
    expect(cpu.evidence).toEqual(report);
    expect(cpu.certificates).toEqual([vcek, chain]);
    expect(writes[0]?.privlevel).toBe("0\n");
  });

  it("retries when the generation moved, and succeeds when a later attempt is clean", async () => {
    const quote = readVector("tdx/phala-dcap-qvl/tdx_quote");
    const { impl, writes } = fakeTsm(root, { provider: "tdx_guest", outblob: quote, races: 1 });
    const report = await new ConfigfsTsmProvider({ root, fs: impl }).getReport(reportData);
    expect(report.outblob).toEqual(quote);
    expect(writes).toHaveLength(2);
  });

  it("fails with enclave_tsm_generation_changed when every attempt races", async () => {
    const quote = readVector("tdx/phala-dcap-qvl/tdx_quote");
    const { impl } = fakeTsm(root, { provider: "tdx_guest", outblob: quote, races: 5 });
    const provider = new ConfigfsTsmProvider({ root, fs: impl, attempts: 3 });
    await expect(provider.getReport(reportData)).rejects.toMatchObject({
      code: "enclave_tsm_generation_changed",
      retryable: true,
    });
    expect(await fs.readdir(root)).toEqual([]);
  });

  it("fails with enclave_tsm_unavailable without configfs-tsm (real fs, missing root)", async () => {
    const provider = new ConfigfsTsmProvider({ root: join(root, "no", "such", "tsm") });
    await expect(provider.getCpuEvidence(reportData)).rejects.toMatchObject({
      code: "enclave_tsm_unavailable",
    });
  });

  it("rejects an unknown provider, a bad auxblob and report data that is not 64 bytes", async () => {
    const quote = readVector("tdx/phala-dcap-qvl/tdx_quote");
    const unknown = new ConfigfsTsmProvider({
      root,
      fs: fakeTsm(root, { provider: "arm_cca_guest", outblob: quote }).impl,
    });
    await expect(unknown.getCpuEvidence(reportData)).rejects.toMatchObject({
      code: "enclave_tsm_provider_unknown",
    });
    const badAux = new ConfigfsTsmProvider({
      root,
      fs: fakeTsm(root, { provider: "sev_guest", outblob: quote, auxblob: new Uint8Array(30).fill(1) }).impl,
    });
    await expect(badAux.getCpuEvidence(reportData)).rejects.toMatchObject({
      code: "enclave_auxblob_malformed",
    });
    await expect(unknown.getReport(new Uint8Array(32))).rejects.toMatchObject({
      code: "enclave_tsm_argument_invalid",
    });
  });
});
