/**
 * `pnpm bench` for @peercycles/attest: runs each benchmark in turn. Each prints its own table beside
 * its named peer (dcap-qvl for TDX and for start-up; Node's native ECDSA verify as the floor).
 * `tsx bench/run.ts start tdx` runs only the named ones.
 */
const all = ["start", "tdx", "sev-snp", "nvidia"] as const;
const chosen = process.argv.slice(2);
const kinds = chosen.length > 0 ? all.filter((k) => chosen.includes(k)) : all;

for (const kind of kinds) {
  const module = (await import(`./${kind}.bench.ts`)) as { run: () => Promise<void> };
  console.log(`\n=== @peercycles/attest ${kind} ===`);
  await module.run();
}
