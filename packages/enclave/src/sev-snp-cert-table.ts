import { EnclaveError } from "./errors.js";

/**
 * The SEV-SNP certificate table that the kernel returns in configfs-tsm `auxblob` (and that the
 * GHCB extended guest request fills): entries of { GUID (16 bytes), offset u32 LE, length u32 LE },
 * ended by an all-zero entry; offsets are from the start of the table. GUIDs are in RFC 4122 byte
 * order, as go-sev-guest reads them.
 */
export const SEV_SNP_CERT_GUIDS = {
  vcek: "63da758d-e664-4564-adc5-f4b93be8accd",
  vlek: "a8074bc2-a25a-483e-aae6-39c045a0b8a1",
  ask: "4ab7b379-bbac-4fe4-a02f-05aef327c782",
  ark: "c0b406a4-a803-4952-9743-3fb6014cd0ae",
} as const;

const ENTRY_SIZE = 24;

/** One certificate of the table. */
export interface SevSnpCertTableEntry {
  readonly guid: string;
  readonly data: Uint8Array;
}

function guidToString(bytes: Uint8Array): string {
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function guidToBytes(guid: string): Uint8Array {
  const hex = guid.replace(/-/g, "");
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new EnclaveError("enclave_argument_invalid", `not a GUID: ${guid}`);
  return Uint8Array.from(hex.match(/../g) as string[], (h) => Number.parseInt(h, 16));
}

/**
 * Parses a certificate table. Offsets and lengths are bounds-checked; an empty auxblob gives [].
 * @throws EnclaveError `enclave_auxblob_malformed`
 */
export function parseSevSnpCertTable(table: Uint8Array): SevSnpCertTableEntry[] {
  if (table.length === 0) return [];
  const view = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const entries: SevSnpCertTableEntry[] = [];
  for (let at = 0; ; at += ENTRY_SIZE) {
    if (at + ENTRY_SIZE > table.length) {
      throw new EnclaveError(
        "enclave_auxblob_malformed",
        "SEV-SNP certificate table has no terminating all-zero entry",
      );
    }
    const guid = table.subarray(at, at + 16);
    const offset = view.getUint32(at + 16, true);
    const length = view.getUint32(at + 20, true);
    if (guid.every((b) => b === 0) && offset === 0 && length === 0) break;
    if (offset + length > table.length || offset < at + ENTRY_SIZE) {
      throw new EnclaveError(
        "enclave_auxblob_malformed",
        `certificate table entry ${entries.length} points outside the table`,
      );
    }
    entries.push({ guid: guidToString(guid), data: table.slice(offset, offset + length) });
  }
  return entries;
}

/** Builds a certificate table (used by tests and by tools that assemble an auxblob). */
export function encodeSevSnpCertTable(entries: readonly SevSnpCertTableEntry[]): Uint8Array {
  const header = (entries.length + 1) * ENTRY_SIZE;
  const total = header + entries.reduce((n, e) => n + e.data.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let offset = header;
  entries.forEach((entry, i) => {
    out.set(guidToBytes(entry.guid), i * ENTRY_SIZE);
    view.setUint32(i * ENTRY_SIZE + 16, offset, true);
    view.setUint32(i * ENTRY_SIZE + 20, entry.data.length, true);
    out.set(entry.data, offset);
    offset += entry.data.length;
  });
  return out;
}
