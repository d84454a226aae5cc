import type { Certificate } from "../common/x509.js";

/**
 * Every certificate the development simulator issues carries this organisation name (`O=`) in its
 * subject. A development root is accepted only when the policy says `allowSimulated: true`, and
 * only if its subject carries the marker, so a result can always say honestly that it rests on a
 * development root (`simulated: true`).
 */
export const DEVELOPMENT_ROOT_MARKER = "Peer Cycles DEVELOPMENT ONLY - NOT A HARDWARE ROOT OF TRUST";

/** Whether a certificate's subject carries {@link DEVELOPMENT_ROOT_MARKER}. */
export function isDevelopmentCertificate(cert: Pick<Certificate, "subject">): boolean {
  return cert.subject.split(", ").includes(`O=${DEVELOPMENT_ROOT_MARKER}`);
}
