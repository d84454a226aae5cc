// @ts-check
// The "try it" panel: one chat request from the browser through @peercycles/client (bundled at
// vendor/peercycles-client.js by the package build), on the tier the user picks, and the
// verification the client attached to the answer. A confidential request is sealed here, in the page.
import { byId, h } from "./dom.js";
import { formatCredits, formatInteger, jobLabel, shortId } from "./format.js";

/** @typedef {{ apiKey: string, policy: unknown, model: string | null }} DevConfig */

const CLIENT_BUNDLE = "./vendor/peercycles-client.js";

/** @type {DevConfig | undefined} */
let devConfig;
/** @type {Promise<any> | undefined} */
let clientModule;
/** One client per tier and key, so the confidential tier's verified bundle is cached between calls. */
const clients = new Map();
/** @type {(id: string) => string} */
let nameOf = (id) => id;

/**
 * @param {{ onAnswer: () => void, workerName?: (id: string) => string }} options
 */
export function setupTryIt(options) {
  if (options.workerName) nameOf = options.workerName;
  const form = /** @type {HTMLFormElement} */ (byId("try-form"));
  const keyInput = /** @type {HTMLInputElement} */ (byId("try-key"));
  const send = /** @type {HTMLButtonElement} */ (byId("try-send"));

  void loadConfig().then(async () => {
    if (devConfig) keyInput.value = devConfig.apiKey;
    else byId("try-key-help").textContent = "Paste an API key of this node (pc_…).";
    await loadModels(keyInput.value);
    form.dataset.ready = "true";
  });
  keyInput.addEventListener("change", () => void loadModels(keyInput.value));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const tier = String(data.get("tier") ?? "verified");
    const model = String(data.get("model") ?? "peer-tiny");
    const prompt = String(data.get("prompt") ?? "").trim();
    const apiKey = keyInput.value.trim();
    const stream = data.get("stream") === "on";
    if (!prompt) return status("Write a message first.", "bad");
    if (!apiKey) return status("An API key is needed.", "bad");
    if (tier === "confidential" && !devConfig?.policy) {
      return status("A confidential request needs an attestation policy; this node's page has none.", "bad");
    }

    send.disabled = true;
    form.setAttribute("aria-busy", "true");
    status(`Sending a ${tier} request${tier === "confidential" ? " (sealing it in this page)" : ""}…`);
    const article = h(
      "article",
      { class: "answer", "data-tier": tier, "data-state": "pending" },
      h("h3", {}, h("span", { class: `badge tier-${tier}` }, tier), ` ${model}`),
      h("p", { class: "prompt" }, h("span", { class: "muted" }, "You: "), prompt),
    );
    const answer = h("p", { class: "content" }, "…");
    article.append(answer);
    byId("try-results").prepend(article);
    const started = performance.now();
    try {
      const client = await clientFor(tier, apiKey);
      const request = { model, messages: [{ role: "user", content: prompt }] };
      let content = "";
      /** @type {any} */
      let peer;
      if (stream) {
        const chunks = await client.chat.completions.create({
          ...request,
          stream: true,
          stream_options: { include_usage: true },
        });
        for await (const chunk of chunks) {
          content += chunk.choices?.[0]?.delta?.content ?? "";
          answer.textContent = content;
          if (chunk.peer) peer = chunk.peer;
        }
      } else {
        const completion = await client.chat.completions.create(request);
        content = completion.choices?.[0]?.message?.content ?? "";
        peer = completion.peer;
      }
      answer.textContent = content || "(empty answer)";
      const verification = peer?.verification;
      const ok = verification?.ok === true;
      article.dataset.state = ok ? "verified" : "unverified";
      article.append(verificationList(tier, peer, performance.now() - started));
      status(
        ok
          ? `${tier} answer from ${peer.worker ? nameOf(peer.worker) : "the node"}: verified${verification.simulated ? " (simulated TEE)" : ""}.`
          : `${tier} answer received; the client did not report it verified.`,
        ok ? "ok" : "bad",
      );
      options.onAnswer();
    } catch (error) {
      article.dataset.state = "error";
      const { code, message } = describeError(error);
      answer.replaceChildren(
        h("strong", { class: "bad" }, code ? `Refused (${code}): ` : "Failed: "),
        message,
      );
      status(`The ${tier} request failed${code ? ` (${code})` : ""}: ${message}`, "bad");
      options.onAnswer();
    } finally {
      send.disabled = false;
      form.removeAttribute("aria-busy");
    }
  });
}

/**
 * @param {string} text
 * @param {"ok" | "bad"} [kind]
 */
function status(text, kind) {
  const node = byId("try-status");
  node.textContent = text;
  node.className = kind ? `status ${kind}` : "status";
}

async function loadConfig() {
  try {
    const response = await fetch("/dashboard/config.json", { headers: { accept: "application/json" } });
    if (response.ok) devConfig = await response.json();
  } catch {
    devConfig = undefined;
  }
}

/** @param {string} apiKey */
async function loadModels(apiKey) {
  if (!apiKey) return;
  try {
    const response = await fetch("/v1/models", { headers: { authorization: `Bearer ${apiKey}` } });
    if (!response.ok) return;
    const body = await response.json();
    /** @type {string[]} */
    const ids = (body.data ?? []).map((/** @type {{ id: string }} */ model) => model.id).filter(Boolean);
    if (ids.length === 0) return;
    const select = /** @type {HTMLSelectElement} */ (byId("try-model"));
    const preferred = devConfig?.model && ids.includes(devConfig.model) ? devConfig.model : select.value;
    select.replaceChildren(...ids.map((id) => h("option", { value: id }, id)));
    select.value = ids.includes(preferred) ? preferred : /** @type {string} */ (ids[0]);
  } catch {
    // Keep the default model.
  }
}

/**
 * @param {string} tier
 * @param {string} apiKey
 */
async function clientFor(tier, apiKey) {
  const key = `${tier}\u0000${apiKey}`;
  const known = clients.get(key);
  if (known) return known;
  clientModule ??= import(CLIENT_BUNDLE).catch((error) => {
    clientModule = undefined;
    throw new Error(
      `the client bundle (dashboard/${CLIENT_BUNDLE.substring(2)}) did not load; build the package ` +
        `(pnpm --filter @peercycles/node build). ${error instanceof Error ? error.message : ""}`,
    );
  });
  const module = await clientModule;
  const PeerCycles = module.PeerCycles;
  if (typeof PeerCycles !== "function") throw new Error("the client bundle exports no PeerCycles class");
  const client = new PeerCycles({
    baseURL: new URL("/v1", location.origin).href,
    apiKey,
    tier,
    ...(tier === "confidential" ? { policy: devConfig?.policy } : {}),
    dangerouslyAllowBrowser: true,
  });
  clients.set(key, client);
  return client;
}

/**
 * @param {string} tier
 * @param {any} peer the answer's `peer` object, with the client's `verification`
 * @param {number} elapsedMs
 */
function verificationList(tier, peer, elapsedMs) {
  const verification = peer?.verification;
  const attestation = verification?.attestation;
  /** @type {Array<[string, string, string?]>} */
  const rows = [
    [
      "Verification",
      verification ? (verification.ok ? "verified" : "FAILED") : "none reported",
      verification?.ok ? "ok" : "bad",
    ],
    ["Tier served", String(verification?.tier ?? peer?.tier ?? "—")],
    ["Worker", workerText(verification?.worker ?? peer?.worker)],
    ["Job", jobLabel(peer?.job_id)],
    ["Price", formatCredits(peer?.price_credits)],
    [
      "Tokens",
      peer?.usage
        ? `${formatInteger(peer.usage.prompt_tokens)} in, ${formatInteger(peer.usage.completion_tokens)} out`
        : "—",
    ],
    ["Receipt", receiptText(verification?.receipt ?? peer?.receipt)],
    ["Round trip", `${formatInteger(elapsedMs)} ms (in this page)`],
  ];
  if (tier === "confidential" || attestation) {
    rows.push(["TEE", attestation ? `${attestation.tee ?? attestation.kind ?? "?"}` : "—"]);
    rows.push(["TCB status", String(attestation?.tcbStatus ?? "—")]);
    rows.push([
      "Evidence",
      verification?.simulated === true
        ? "simulated (development roots)"
        : verification
          ? "real hardware"
          : "—",
      verification?.simulated ? "warn" : undefined,
    ]);
    if (attestation?.gpus !== undefined) {
      rows.push([
        "GPUs",
        String(Array.isArray(attestation.gpus) ? attestation.gpus.length : attestation.gpus),
      ]);
    }
    const measurements = attestation?.measurements;
    if (measurements && typeof measurements === "object") {
      for (const [name, value] of Object.entries(measurements)) rows.push([name, shortId(String(value), 8)]);
    }
  }
  return h(
    "div",
    { class: "verification" },
    h(
      "dl",
      { class: "figures" },
      rows.map(([name, value, kind]) => [
        h("dt", {}, name),
        h("dd", { class: kind ?? null, "data-verification": name }, value),
      ]),
    ),
    verification
      ? h(
          "details",
          {},
          h("summary", {}, "Full verification result"),
          h("pre", {}, JSON.stringify(verification, jsonSafe, 2)),
        )
      : null,
  );
}

/** @param {unknown} id */
function workerText(id) {
  if (typeof id !== "string" || id === "") return "—";
  const name = nameOf(id);
  return name === id ? id : `${name} (${id})`;
}

/** @param {any} receipt */
function receiptText(receipt) {
  if (!receipt) return "—";
  if (typeof receipt === "string") return shortId(receipt, 8);
  if (typeof receipt.id === "string")
    return `${shortId(receipt.id, 8)}${receipt.ok === false ? " (bad)" : ""}`;
  if (typeof receipt.ok === "boolean") return receipt.ok ? "signature and hashes match" : "does not match";
  return "present";
}

/**
 * @param {string} _key
 * @param {unknown} value
 */
function jsonSafe(_key, value) {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  return value;
}

/** @param {unknown} error */
function describeError(error) {
  if (error && typeof error === "object") {
    const record = /** @type {Record<string, unknown>} */ (error);
    const code = typeof record.code === "string" ? record.code : undefined;
    const message = typeof record.message === "string" ? record.message : String(error);
    return { code, message };
  }
  return { code: undefined, message: String(error) };
}
