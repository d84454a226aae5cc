import type { SharedErrorCode } from "../common/error-codes.js";
import type { NvidiaErrorCode } from "./error-codes.js";

type ChainCode =
  | "certificate_chain_incomplete"
  | "certificate_chain_untrusted"
  | "certificate_signature_invalid"
  | "certificate_not_ca"
  | "certificate_key_usage_invalid"
  | "certificate_path_length_exceeded"
  | "certificate_critical_extension_unknown"
  | "certificate_off_path"
  | "certificate_expired"
  | "certificate_not_yet_valid";

/** A shared chain code as the device chain reports it (spelled out: no code is built at run time). */
export const DEVICE_CHAIN_CODES = {
  certificate_chain_incomplete: "nvidia_device_certificate_chain_incomplete",
  certificate_chain_untrusted: "nvidia_device_certificate_chain_untrusted",
  certificate_signature_invalid: "nvidia_device_certificate_signature_invalid",
  certificate_not_ca: "nvidia_device_certificate_not_ca",
  certificate_key_usage_invalid: "nvidia_device_certificate_key_usage_invalid",
  certificate_path_length_exceeded: "nvidia_device_certificate_path_length_exceeded",
  certificate_critical_extension_unknown: "nvidia_device_certificate_critical_extension_unknown",
  certificate_off_path: "nvidia_device_certificate_off_path",
  certificate_expired: "nvidia_device_certificate_expired",
  certificate_not_yet_valid: "nvidia_device_certificate_not_yet_valid",
} as const satisfies Record<ChainCode, NvidiaErrorCode>;

/** A shared chain code as the RIM signer chain reports it. */
export const RIM_CHAIN_CODES = {
  certificate_chain_incomplete: "nvidia_rim_certificate_chain_incomplete",
  certificate_chain_untrusted: "nvidia_rim_certificate_chain_untrusted",
  certificate_signature_invalid: "nvidia_rim_certificate_signature_invalid",
  certificate_not_ca: "nvidia_rim_certificate_not_ca",
  certificate_key_usage_invalid: "nvidia_rim_certificate_key_usage_invalid",
  certificate_path_length_exceeded: "nvidia_rim_certificate_path_length_exceeded",
  certificate_critical_extension_unknown: "nvidia_rim_certificate_critical_extension_unknown",
  certificate_off_path: "nvidia_rim_certificate_off_path",
  certificate_expired: "nvidia_rim_certificate_expired",
  certificate_not_yet_valid: "nvidia_rim_certificate_not_yet_valid",
} as const satisfies Record<ChainCode, NvidiaErrorCode>;

/** The chain-specific code for a shared chain code, or undefined for any other code. */
export function chainCode<T extends Record<ChainCode, NvidiaErrorCode>>(
  table: T,
  code: SharedErrorCode | string,
): T[ChainCode] | undefined {
  return Object.hasOwn(table, code) ? table[code as ChainCode] : undefined;
}
