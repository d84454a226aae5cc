// @ts-check
// Number and time formatting for the dashboard. Formatting only: no figure is computed here except
// unit conversions fixed by the protocol (1 credit = $0.01; USDC has 6 decimals).

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });
const dollars = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

/** @param {number | undefined} value */
export function formatInteger(value) {
  return value === undefined || !Number.isFinite(value) ? "—" : integer.format(value);
}

/** @param {number | undefined} value */
export function formatDecimal(value) {
  return value === undefined || !Number.isFinite(value) ? "—" : decimal.format(value);
}

/**
 * Credits with their dollar value (1 credit = $0.01 of USDC).
 * @param {number | undefined} credits
 */
export function formatCredits(credits) {
  if (credits === undefined || !Number.isFinite(credits)) return "—";
  return `${integer.format(credits)} cr`;
}

/** @param {number | undefined} credits */
export function creditsInDollars(credits) {
  if (credits === undefined || !Number.isFinite(credits)) return "";
  return dollars.format(credits / 100);
}

/**
 * USDC base units (a decimal string, 6 decimals) as `1,234.560000 USDC`, exactly.
 * @param {string | undefined} baseUnits
 */
export function formatUsdcBaseUnits(baseUnits) {
  if (baseUnits === undefined || !/^\d+$/.test(baseUnits)) return "—";
  const value = BigInt(baseUnits);
  const whole = value / 1_000_000n;
  const fraction = (value % 1_000_000n).toString().padStart(6, "0");
  return `${integer.format(whole)}.${fraction} USDC`;
}

/** @param {number | undefined} ms */
export function formatMilliseconds(ms) {
  if (ms === undefined || !Number.isFinite(ms)) return "—";
  return ms >= 10_000 ? `${decimal.format(ms / 1000)} s` : `${integer.format(ms)} ms`;
}

/** @param {number | undefined} bytes */
export function formatBytes(bytes) {
  if (bytes === undefined || !Number.isFinite(bytes)) return "—";
  if (bytes < 10_000) return `${integer.format(bytes)} B`;
  return `${decimal.format(bytes / 1024)} KiB`;
}

/**
 * Local wall-clock time of an ISO timestamp (`14:03:07`).
 * @param {string | number | undefined} at
 */
export function formatTime(at) {
  if (at === undefined) return "—";
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) return "—";
  return date.toLocaleTimeString("en-GB", { hour12: false });
}

/**
 * A long identifier shortened for a table cell (`3f9a…c21b`); the full value goes in a title.
 * @param {string | undefined} id
 * @param {number} [keep]
 */
export function shortId(id, keep = 6) {
  if (!id) return "—";
  return id.length <= keep * 2 + 1 ? id : `${id.substring(0, keep)}…${id.substring(id.length - keep)}`;
}

/**
 * A job id as a table shows it: the first 8 characters after the `job_` prefix (the full id goes in
 * a title).
 * @param {string | undefined} id
 */
export function jobLabel(id) {
  if (!id) return "—";
  return id.replace(/^job_/, "").substring(0, 8);
}
