/**
 * CI's check of the README's main job: runs `pnpm start` (peer-cycles node --dev) on a fresh data
 * directory, runs the curl line it prints, stops it with SIGTERM, starts it again on the same data
 * and checks that the key and the balance survived. Exits non-zero, with the reason, on any failure.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const data = mkdtempSync(join(tmpdir(), "peer-smoke-"));

function fail(message) {
  console.error(`smoke-start: ${message}`);
  process.exitCode = 1;
  throw new Error(message);
}

function start() {
  const child = spawn("npx", ["-y", "pnpm@10", "start", "--port", "0", "--data", data], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    process.stderr.write(chunk);
    stderr += chunk;
  });
  const lines = [];
  const printed = new Promise((resolve, reject) => {
    let buffer = "";
    const timer = setTimeout(() => reject(new Error("no curl line within 300 s")), 300_000);
    child.stdout.on("data", (chunk) => {
      process.stdout.write(chunk);
      buffer += chunk;
      let newline = buffer.indexOf("\n");
      while (newline >= 0) {
        lines.push(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf("\n");
      }
      if (lines.some((line) => line.startsWith("curl "))) {
        clearTimeout(timer);
        resolve(lines);
      }
    });
    child.once("exit", (code) =>
      reject(new Error(`pnpm start exited with ${code} before printing its curl line`)),
    );
  });
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return { child, printed, exited, stderr: () => stderr };
}

function field(lines, name) {
  const line = lines.find((l) => l.startsWith(`${name}: `));
  return line ? line.slice(name.length + 2).trim() : fail(`no "${name}:" line in the output`);
}

/**
 * Signals the whole process group, as a terminal's Ctrl-C does: npx and pnpm die of the signal,
 * the node must say it stopped cleanly (its own exit code is 0, which pnpm cannot pass on).
 */
async function stop(run, signal) {
  process.kill(-run.child.pid, signal);
  const timeout = new Promise((resolve) => setTimeout(() => resolve("timeout"), 30_000));
  const result = await Promise.race([run.exited, timeout]);
  if (result === "timeout") fail(`the node did not stop within 30 s of ${signal}`);
  for (let i = 0; i < 50 && !run.stderr().includes("peer-cycles: stopped cleanly"); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!run.stderr().includes("peer-cycles: stopped cleanly"))
    fail(`the node did not stop cleanly after ${signal}`);
  console.log(`smoke-start: ${signal} stopped the node cleanly`);
}

async function balance(url, apiKey) {
  const response = await fetch(`${url}/credits/balance`, { headers: { authorization: `Bearer ${apiKey}` } });
  if (response.status !== 200) fail(`/credits/balance answered ${response.status}`);
  return (await response.json()).balance;
}

let first;
let second;
try {
  first = start();
  const lines = await first.printed;
  const url = field(lines, "url");
  const apiKey = field(lines, "api key");
  const dashboard = field(lines, "dashboard");
  const curl = lines.find((l) => l.startsWith("curl "));
  const before = await balance(url, apiKey);
  let answerText;
  let hasCurl = true;
  try {
    execFileSync("curl", ["--version"], { stdio: "ignore" });
  } catch {
    hasCurl = false;
  }
  if (hasCurl) {
    answerText = execFileSync("sh", ["-c", curl], { encoding: "utf8" });
    console.log("smoke-start: ran the printed curl line");
  } else {
    const body = /-d '([^']+)'$/.exec(curl)?.[1] ?? fail("cannot read the body of the curl line");
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body,
    });
    answerText = await response.text();
    console.log("smoke-start: no curl on this machine; sent the curl line's request with fetch");
  }
  const answer = JSON.parse(answerText);
  if (!answer.choices?.[0]?.message)
    fail(`the curl line's answer has no message: ${answerText.slice(0, 300)}`);
  if (answer.peer?.tier !== "verified") fail("the curl line's answer has no verified peer object");
  console.log(
    `smoke-start: answer "${answer.choices[0].message.content}" from ${answer.peer.worker}, ${answer.peer.price_credits} credits`,
  );
  const page = await fetch(dashboard);
  if (page.status !== 200 || !(page.headers.get("content-type") ?? "").includes("text/html")) {
    fail(`the dashboard answered ${page.status} ${page.headers.get("content-type")}`);
  }
  const after = await balance(url, apiKey);
  if (after !== before - answer.peer.price_credits)
    fail(`balance ${before} → ${after}, charged ${answer.peer.price_credits}`);
  await stop(first, "SIGTERM");

  second = start();
  const again = await second.printed;
  if (field(again, "api key") !== apiKey) fail("a restart on the same --data printed another API key");
  const kept = await balance(field(again, "url"), apiKey);
  if (kept !== after) fail(`the balance did not survive the restart: ${after} → ${kept}`);
  console.log(`smoke-start: restarted on the same data: same key, balance ${kept} kept`);
  await stop(second, "SIGINT");
  console.log("smoke-start: ok");
} catch (error) {
  console.error(`smoke-start: ${error.message}`);
  for (const run of [first, second]) {
    try {
      if (run) process.kill(-run.child.pid, "SIGKILL");
    } catch {}
  }
  process.exitCode = 1;
} finally {
  rmSync(data, { recursive: true, force: true });
}
