/**
 * `pnpm bench` for @peercycles/attest: runs each evidence kind's benchmark in turn. Each prints its
 * own table beside its named peer (dcap-qvl for TDX; Node's native ECDSA verify as the floor).
 */
const kinds = ["tdx", "sev-snp", "nvidia"] as const;

for (const kind of kinds) {
  const module = (await import(`./${kind}.bench.ts`)) as { run: () => Promise<void> };
  console.log(`\n=== @peercycles/attest ${kind} ===`);
  await module.run();
}
