// The Merkle log over the store: signed checkpoints (on a schedule and on demand), inclusion and
// consistency proofs, and full verification of the store against its leaves and checkpoints.
import { BallastError } from '../errors/index.js';
import { leafHashHex, leafKinds, type LeafKind, type Store, type StoredAuditCheckpoint, type StoredLeaf } from '../store/index.js';
import { newId } from '../store/index.js';
import { formatCheckpoint, openNote, parseCheckpoint, signNote } from './audit-log/checkpoint-note.js';
import { consistencyProof, inclusionProof, MerkleFrontier } from './audit-log/merkle-tree.js';
import { verifyInclusion } from './audit-log/merkle-verify.js';

/** What proves that one entry is in the log unchanged; verifiable offline with the verifier key. */
export interface InclusionProofDocument {
  readonly leaf: { readonly index: number; readonly kind: string; readonly refId: string; readonly data: string; readonly hash: string };
  readonly treeSize: number;
  readonly rootHash: string;
  /** Hex hashes, RFC 9162 §2.1.3 order. */
  readonly proof: readonly string[];
  /** The signed checkpoint note the proof is against. */
  readonly checkpoint: string;
  readonly verifierKey: string;
}

/** One thing `verify` found wrong. */
export interface AuditProblem {
  readonly kind: 'gap' | 'edited' | 'missing_row' | 'unlogged_rows' | 'duplicate' | 'checkpoint_root' | 'checkpoint_signature' | 'checkpoint_beyond_log';
  readonly index?: number;
  readonly message: string;
}

export interface AuditVerification {
  readonly ok: boolean;
  readonly leaves: number;
  readonly checkpoints: number;
  /** Leaves after the last checkpoint: verified against their rows, not yet under a signature. */
  readonly uncovered: number;
  readonly problems: readonly AuditProblem[];
}

export interface AuditLedgerOptions {
  readonly store: Store;
  /** C2SP signer key (`PRIVATE+KEY+<name>+<hash>+<key>`); without it the ledger verifies and proves but cannot sign. */
  readonly signerKey?: string;
  /** C2SP verifier key (`<name>+<hash>+<key>`). */
  readonly verifierKey: string;
  /** The checkpoint origin line (the log's name). */
  readonly origin: string;
  readonly now?: () => number;
}

export interface AuditLedger {
  readonly verifierKey: string;
  /** Signs a checkpoint of the log as it is now (or returns the latest, when no leaf came since). */
  checkpoint(): Promise<StoredAuditCheckpoint>;
  /** The proof for a decision, feedback or audit event id, against the latest checkpoint (made now when it does not cover the entry). */
  proveInclusion(refId: string): Promise<InclusionProofDocument>;
  proveConsistency(from: number, to: number): Promise<{ readonly from: number; readonly to: number; readonly proof: readonly string[] }>;
  /** Recomputes every leaf from its row and the tree at every checkpoint; lists what does not match. */
  verify(): Promise<AuditVerification>;
  /** Checkpoints every `intervalMs` while leaves keep coming; returns the stop function. */
  schedule(intervalMs: number, onError: (error: unknown) => void): () => void;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Reads every leaf with index in [from, to), page by page. */
async function* leavesOf(store: Store, from: number, to: number): AsyncGenerator<StoredLeaf[]> {
  for (let at = from; at < to; ) {
    const page = await store.audit.leaves(at, to);
    if (page.length === 0) return;
    yield page;
    at = page[page.length - 1]!.index + 1;
  }
}

async function allLeafHashes(store: Store, size: number): Promise<Buffer[]> {
  const hashes: Buffer[] = [];
  for await (const page of leavesOf(store, 0, size)) for (const leaf of page) hashes.push(Buffer.from(leaf.hash, 'hex'));
  if (hashes.length !== size) throw new BallastError('STORE_UNAVAILABLE', { detail: `the audit log has ${hashes.length} readable leaves below ${size}` });
  return hashes;
}

/** Every checkpoint, by tree size (without their frontiers), page by page. */
async function allCheckpoints(store: Store): Promise<StoredAuditCheckpoint[]> {
  const all: StoredAuditCheckpoint[] = [];
  for (let after: { treeSize: number; id: string } | undefined; ; ) {
    const page = await store.audit.listCheckpoints({ limit: 1000, withFrontier: false, ...(after === undefined ? {} : { after }) });
    all.push(...page);
    if (page.length < 1000) return all;
    const lastOne = page[page.length - 1]!;
    after = { treeSize: lastOne.treeSize, id: lastOne.id };
  }
}

/** The stored frontier of a checkpoint, if it gives the root its note signs; otherwise undefined (rebuild from the leaves). */
function trustedFrontier(checkpoint: StoredAuditCheckpoint, verifierKey: string): MerkleFrontier | undefined {
  try {
    const frontier = MerkleFrontier.fromJSON(checkpoint.frontier as ReturnType<MerkleFrontier['toJSON']>);
    const opened = openNote(checkpoint.note, [verifierKey]);
    const parsed = opened.ok ? parseCheckpoint(opened.value.text) : undefined;
    if (parsed === undefined || !parsed.ok || parsed.value.size !== frontier.size || !parsed.value.rootHash.equals(frontier.root())) return undefined;
    return frontier;
  } catch {
    return undefined;
  }
}

/** Verifies a proof document offline: the leaf hash, the path to the root, the checkpoint's signature. */
export function verifyInclusionDocument(doc: InclusionProofDocument, verifierKey: string): { readonly ok: boolean; readonly reason?: string } {
  if (typeof doc.leaf?.data !== 'string' || leafHashHex(doc.leaf.data) !== doc.leaf.hash) return { ok: false, reason: 'the leaf data does not hash to the leaf hash' };
  let committed: { id?: unknown; type?: unknown };
  try {
    committed = JSON.parse(doc.leaf.data) as { id?: unknown; type?: unknown };
  } catch {
    return { ok: false, reason: 'the leaf data is not JSON' };
  }
  if (committed.id !== doc.leaf.refId || committed.type !== doc.leaf.kind) return { ok: false, reason: `the leaf commits to ${String(committed.type)} ${String(committed.id)}, not to the ${doc.leaf.kind} ${doc.leaf.refId} the proof names` };
  const opened = openNote(doc.checkpoint, [verifierKey]);
  if (!opened.ok) return { ok: false, reason: `the checkpoint's signature does not verify: ${opened.reason}` };
  const parsed = parseCheckpoint(opened.value.text);
  if (!parsed.ok) return { ok: false, reason: `the checkpoint is malformed: ${parsed.reason}` };
  const keyName = verifierKey.slice(0, verifierKey.indexOf('+'));
  if (parsed.value.origin !== keyName) return { ok: false, reason: `the checkpoint is of the log '${parsed.value.origin}', not '${keyName}'` };
  if (parsed.value.size !== doc.treeSize || hex(parsed.value.rootHash) !== doc.rootHash) return { ok: false, reason: 'the proof is for another tree than the signed checkpoint' };
  const ok = verifyInclusion({ leafHash: Buffer.from(doc.leaf.hash, 'hex'), index: doc.leaf.index, size: doc.treeSize, proof: doc.proof.map((h) => Buffer.from(h, 'hex')), root: parsed.value.rootHash });
  return ok ? { ok } : { ok, reason: 'the inclusion proof does not lead to the signed root' };
}

/** Creates the ledger over a store. */
export function createAuditLedger(options: AuditLedgerOptions): AuditLedger {
  const { store, now = Date.now } = options;
  let running: Promise<StoredAuditCheckpoint> | undefined;

  const makeCheckpoint = async (): Promise<StoredAuditCheckpoint> => {
    if (options.signerKey === undefined) throw new BallastError('INTERNAL', { detail: 'this audit ledger has no signing key' });
    const latest = await store.audit.latestCheckpoint();
    const size = await store.audit.leafCount();
    if (latest !== undefined && latest.treeSize >= size) return latest;
    const frontier = (latest === undefined ? undefined : trustedFrontier(latest, options.verifierKey)) ?? new MerkleFrontier();
    for await (const page of leavesOf(store, frontier.size, size)) for (const leaf of page) frontier.append(Buffer.from(leaf.hash, 'hex'));
    if (frontier.size !== size) throw new BallastError('STORE_UNAVAILABLE', { detail: `the audit log has a gap below ${size}` });
    const root = frontier.root();
    const note = signNote(formatCheckpoint({ origin: options.origin, size, rootHash: root }), options.signerKey);
    const checkpoint: StoredAuditCheckpoint = { id: newId('ckp'), createdAt: new Date(now()).toISOString(), treeSize: size, rootHash: hex(root), note, frontier: frontier.toJSON() };
    await store.audit.putCheckpoint(checkpoint);
    return checkpoint;
  };

  const ledger: AuditLedger = {
    verifierKey: options.verifierKey,

    checkpoint() {
      // One at a time in this process: a second caller shares the checkpoint being made.
      running ??= makeCheckpoint().finally(() => (running = undefined));
      return running;
    },

    async proveInclusion(refId) {
      const leaf = await store.audit.leafOf(refId);
      if (leaf === undefined) throw new BallastError('AUDIT_ENTRY_NOT_FOUND', { detail: `nothing with id '${refId}' is in the audit log` });
      // The leaf's data is its row's, recomputed: a row changed since it was logged no longer proves.
      const data = (await store.audit.recomputeLeafData(leaf.kind as LeafKind, [leaf.refId])).get(leaf.refId);
      if (data === undefined) throw new BallastError('AUDIT_ENTRY_NOT_FOUND', { detail: `the ${leaf.kind} '${refId}' was logged but is no longer in the store` });
      if (leafHashHex(data) !== leaf.hash) throw new BallastError('AUDIT_ENTRY_NOT_FOUND', { detail: `the ${leaf.kind} '${refId}' was changed after it was logged: run \`ballast audit verify\`` });
      let checkpoint = await store.audit.latestCheckpoint();
      if (checkpoint === undefined || checkpoint.treeSize <= leaf.index) checkpoint = await ledger.checkpoint();
      const hashes = await allLeafHashes(store, checkpoint.treeSize);
      return {
        leaf: { index: leaf.index, kind: leaf.kind, refId: leaf.refId, data, hash: leaf.hash },
        treeSize: checkpoint.treeSize,
        rootHash: checkpoint.rootHash,
        proof: inclusionProof(hashes, leaf.index, checkpoint.treeSize).map(hex),
        checkpoint: checkpoint.note,
        verifierKey: options.verifierKey,
      };
    },

    async proveConsistency(from, to) {
      const size = await store.audit.leafCount();
      if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || from > to || to > size) {
        throw new BallastError('REQUEST_INVALID', { detail: `sizes must satisfy 1 <= from <= to <= ${size} (the log's size)`, issues: [{ pointer: '/from', code: 'range', message: `got from=${from}, to=${to}` }] });
      }
      return { from, to, proof: consistencyProof(await allLeafHashes(store, to), from, to).map(hex) };
    },

    async verify() {
      const problems: AuditProblem[] = [];
      // Read in this order on a live store: checkpoints, then rows, then leaves. Each row and its leaf
      // commit together, so rows counted before the leaves are all among them, and every checkpoint
      // read first is within the log read after.
      const bySize = await allCheckpoints(store);
      const rows = await store.audit.countLoggedRows();
      const purgeRecord = await store.audit.purgeRecord();
      const size = await store.audit.leafCount();
      const kindCounts: Record<LeafKind, number> = { decision: 0, feedback: 0, audit: 0 };
      const deletedLeaves = { decision: 0, feedback: 0 };
      const seen = new Set<string>();
      const frontier = new MerkleFrontier();
      let c = 0;
      const checkAt = () => {
        while (c < bySize.length && bySize[c]!.treeSize === frontier.size) {
          const cp = bySize[c++]!;
          const opened = openNote(cp.note, [options.verifierKey]);
          const parsed = opened.ok ? parseCheckpoint(opened.value.text) : undefined;
          if (!opened.ok || parsed === undefined || !parsed.ok) {
            problems.push({ kind: 'checkpoint_signature', message: `checkpoint ${cp.id} (size ${cp.treeSize}): the signature does not verify with the verifier key${opened.ok ? '' : ` (${opened.reason})`}` });
            continue;
          }
          const root = hex(frontier.root());
          if (parsed.value.size !== cp.treeSize || hex(parsed.value.rootHash) !== root || cp.rootHash !== root) {
            problems.push({ kind: 'checkpoint_root', message: `checkpoint ${cp.id} (size ${cp.treeSize}) signed root ${hex(parsed.value.rootHash)}, but the log's leaves give ${root}` });
          }
        }
      };
      checkAt();
      let expected = 0;
      for await (const page of leavesOf(store, 0, size)) {
        const recomputed = new Map<LeafKind, Map<string, string>>();
        for (const kind of leafKinds) {
          const ids = page.filter((l) => l.kind === kind).map((l) => l.refId);
          recomputed.set(kind, await store.audit.recomputeLeafData(kind, ids));
        }
        for (const leaf of page) {
          if (leaf.index !== expected) {
            problems.push({ kind: 'gap', index: expected, message: `leaves ${expected}…${leaf.index - 1} are missing` });
            expected = leaf.index;
          }
          expected++;
          const kind = leaf.kind as LeafKind;
          if (purgeRecord.deleted.has(leaf.refId) && kind !== 'audit') deletedLeaves[kind]++;
          if (!(leafKinds as readonly string[]).includes(kind)) {
            problems.push({ kind: 'edited', index: leaf.index, message: `leaf ${leaf.index}: unknown kind '${leaf.kind}'` });
          } else {
            kindCounts[kind]++;
            const now = recomputed.get(kind)!.get(leaf.refId);
            if (now === undefined && purgeRecord.deleted.has(leaf.refId)) {
              // Deleted past its retention term, on the record: its leaf (a hash) stays and still counts.
            } else if (now === undefined) problems.push({ kind: 'missing_row', index: leaf.index, message: `leaf ${leaf.index}: the ${kind} ${leaf.refId} is no longer in the store` });
            else if (leafHashHex(now) !== leaf.hash) problems.push({ kind: 'edited', index: leaf.index, message: `leaf ${leaf.index}: the ${kind} ${leaf.refId} was changed after it was logged` });
          }
          if (seen.has(leaf.refId)) problems.push({ kind: 'duplicate', index: leaf.index, message: `leaf ${leaf.index}: ${leaf.refId} is logged twice` });
          seen.add(leaf.refId);
          if (!/^[0-9a-f]{64}$/.test(leaf.hash)) {
            problems.push({ kind: 'edited', index: leaf.index, message: `leaf ${leaf.index} (${leaf.refId}): its hash is not a SHA-256 ('${leaf.hash.slice(0, 70)}')` });
            frontier.append(Buffer.alloc(32)); // a placeholder, so later checkpoints are still checked (and fail)
          } else frontier.append(Buffer.from(leaf.hash, 'hex'));
          checkAt();
        }
      }
      for (; c < bySize.length; c++) {
        const cp = bySize[c]!;
        problems.push({ kind: 'checkpoint_beyond_log', message: `checkpoint ${cp.id} signed ${cp.treeSize} leaves but the log has ${frontier.size}: entries were removed from its end` });
      }
      for (const kind of leafKinds) {
        if (rows[kind] > kindCounts[kind] - (kind === 'audit' ? 0 : deletedLeaves[kind])) problems.push({ kind: 'unlogged_rows', message: `${rows[kind] - kindCounts[kind]} ${kind} row(s) have no leaf in the log (inserted behind its back)` });
      }
      // A decision whose raw input is gone must have been purged or erased by Ballast, on the record.
      for (const id of purgeRecord.purged) {
        if (!purgeRecord.listed.has(id)) problems.push({ kind: 'edited', message: `the raw input of decision ${id} was removed, but no retention.purged or subject.erased event lists it` });
      }
      const last = bySize.length === 0 ? 0 : bySize[bySize.length - 1]!.treeSize;
      return { ok: problems.length === 0, leaves: frontier.size, checkpoints: bySize.length, uncovered: Math.max(0, frontier.size - last), problems };
    },

    schedule(intervalMs, onError) {
      const timer = setInterval(() => void ledger.checkpoint().catch(onError), intervalMs);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
  return ledger;
}
