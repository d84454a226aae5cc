import { closeSync, openSync, readFileSync, readSync } from "node:fs";

/**
 * Whether each needle occurs anywhere in a live process's readable memory (`/proc/<pid>/mem` over
 * every readable mapping: V8 heap, buffers, malloc arenas, stacks). Linux only; tests use it to show
 * that a confidential prompt never exists in a process that must only relay ciphertext.
 */
export function memoryContains(pid: number, needles: readonly Buffer[]): boolean[] {
  const found = needles.map(() => false);
  const maps = readFileSync(`/proc/${pid}/maps`, "utf8").split("\n").filter(Boolean);
  const fd = openSync(`/proc/${pid}/mem`, "r");
  try {
    for (const line of maps) {
      const [range, perms, , , , path] = line.split(/\s+/);
      if (!perms?.startsWith("r") || path === "[vvar]" || path === "[vsyscall]") continue;
      const [start, end] = range!.split("-").map((hex) => Number.parseInt(hex, 16)) as [number, number];
      const length = end - start;
      if (length > 1 << 30) continue;
      const buffer = Buffer.alloc(length);
      let read = 0;
      try {
        read = readSync(fd, buffer, 0, length, start);
      } catch {
        continue; // unreadable guard pages
      }
      const view = buffer.subarray(0, read);
      needles.forEach((needle, index) => {
        if (!found[index] && view.includes(needle)) found[index] = true;
      });
    }
  } finally {
    closeSync(fd);
  }
  return found;
}

/** The UTF-8 and UTF-16LE forms of a marker (V8 keeps strings in either). */
export function markerForms(marker: string): Buffer[] {
  return [Buffer.from(marker, "utf8"), Buffer.from(marker, "utf16le")];
}

/** Direct children of a process (Linux). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}
