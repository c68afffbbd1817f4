// The audit log's signing key: an Ed25519 key in C2SP note format, kept in the data directory
// (`audit-signing.key`, 0600) beside its public half (`audit-verifier.key`), which is what an
// auditor needs to check checkpoints and proofs offline.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BallastError } from '../errors/index.js';
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

/**
 * Reads the data directory's signing key, or makes one (and its verifier key file) on first use.
 * `hasCheckpoints`: the log already has signed checkpoints, so a missing key is refused rather than
 * replaced (a new key would let a rewritten log verify).
 */
export function loadOrCreateAuditSigner(dataDir: string, hasCheckpoints: boolean): AuditSigner {
  const file = path.join(dataDir, auditSigningKeyFile);
  let signerKey: string;
  try {
    signerKey = readFileSync(file, 'utf8').trim();
  } catch {
    if (hasCheckpoints) {
      throw new BallastError('CONFIG_INVALID', { detail: `the audit log has signed checkpoints but ${file} is missing: restore it from a backup (a new key would let a rewritten log verify)` });
    }
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
  // Every command opens the ledger: write the public half only when it is missing or stale.
  const verifierFile = path.join(dataDir, auditVerifierKeyFile);
  if (!existsSync(verifierFile) || readFileSync(verifierFile, 'utf8').trim() !== verifierKey) writeFileSync(verifierFile, `${verifierKey}\n`, { mode: 0o644 });
  return { signerKey, verifierKey, origin: originOf(verifierKey) };
}

/**
 * The verifier key to check a log or a proof with: given (a key, or a file holding one), else the
 * data directory's `audit-verifier.key`. Never made up: without one, verification cannot be trusted.
 */
export function readVerifierKey(given: string | undefined, dataDir: string | undefined): string {
  if (given !== undefined) {
    if (/^[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$/.test(given)) return given;
    try {
      return readFileSync(given, 'utf8').trim();
    } catch {
      throw new BallastError('REQUEST_INVALID', { detail: `--verifier-key must be a verifier key (name+hash+key) or a file holding one; '${given}' is neither` });
    }
  }
  const file = dataDir === undefined ? undefined : path.join(dataDir, auditVerifierKeyFile);
  if (file !== undefined && existsSync(file)) return readFileSync(file, 'utf8').trim();
  throw new BallastError('REQUEST_INVALID', { detail: `give the log's verifier key with --verifier-key (a key or a file such as ${auditVerifierKeyFile}); a proof's own key proves nothing` });
}
