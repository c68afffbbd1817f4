// The audit log's signing key: an Ed25519 key in C2SP note format, kept in the data directory
// (`audit-signing.key`, 0600) beside its public half (`audit-verifier.key`), which is what an
// auditor needs to check checkpoints and proofs offline.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateNoteKey, verifierKeyOf } from '../governance/index.js';

export interface AuditSigner {
  readonly signerKey: string;
  readonly verifierKey: string;
  /** The checkpoint origin: the key's name, unique to this log. */
  readonly origin: string;
}

export const auditSigningKeyFile = 'audit-signing.key';
export const auditVerifierKeyFile = 'audit-verifier.key';

/** The key's name is its origin: `<name>+<hash>+<key>` → `<name>`. */
function originOf(verifierKey: string): string {
  return verifierKey.slice(0, verifierKey.indexOf('+'));
}

/** Reads the data directory's signing key, or makes one (and its verifier key file) on first use. */
export function loadOrCreateAuditSigner(dataDir: string): AuditSigner {
  const file = path.join(dataDir, auditSigningKeyFile);
  let signerKey: string;
  try {
    signerKey = readFileSync(file, 'utf8').trim();
  } catch {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    signerKey = generateNoteKey(`ballast.audit/${randomBytes(6).toString('hex')}`).signerKey;
    try {
      writeFileSync(file, `${signerKey}\n`, { mode: 0o600, flag: 'wx' });
    } catch {
      // Another process made it first: use theirs.
      signerKey = readFileSync(file, 'utf8').trim();
    }
  }
  const verifierKey = verifierKeyOf(signerKey);
  writeFileSync(path.join(dataDir, auditVerifierKeyFile), `${verifierKey}\n`, { mode: 0o644 });
  return { signerKey, verifierKey, origin: originOf(verifierKey) };
}
