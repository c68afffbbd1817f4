// `ballast audit verify|prove|checkpoint|events`: the tamper-evident log from the shell. `verify`
// recomputes the Merkle tree from the store and checks every leaf and checkpoint; with --proof it
// checks a saved inclusion proof offline, against the verifier key only.
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { BallastError } from '../../errors/index.js';
import { verifyInclusionDocument, type AuditLedger, type InclusionProofDocument } from '../../governance/index.js';
import type { Store } from '../../store/index.js';
import { auditVerifierKeyFile, readVerifierKey } from '../audit-signer.js';
import { environmentVariables, type EnvironmentSettings } from '../environment.js';
import { exitCodes } from '../exit-codes.js';
import { openAuditLedger, verifyingLedger } from '../runtime.js';
import { callApi, openDataStore, type Target } from './keys-command.js';

interface Context {
  readonly env: EnvironmentSettings;
  readonly out: (line: string) => void;
  readonly dataDir: (flag?: string) => string;
  readonly dataDirOption: () => Option;
  readonly setExitCode: (code: number) => void;
}

function readProof(file: string): InclusionProofDocument {
  let text: string;
  try {
    text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch {
    throw new BallastError('REQUEST_INVALID', { detail: `cannot read the proof file '${file}'` });
  }
  try {
    const doc = JSON.parse(text) as InclusionProofDocument;
    if (typeof doc !== 'object' || doc === null || typeof doc.leaf !== 'object' || !Array.isArray(doc.proof) || typeof doc.checkpoint !== 'string') throw new Error('shape');
    return doc;
  } catch {
    throw new BallastError('REQUEST_INVALID', { detail: `'${file}' is not an inclusion proof as \`ballast audit prove\` prints it` });
  }
}

/** Adds `audit …` to the program. */
export function registerAuditCommand(program: Command, ctx: Context): void {
  const { env, out } = ctx;
  const local = (command: Command) => command.addOption(ctx.dataDirOption()).option('-c, --config <file>', "config file, for its store: block (default ./ballast.yaml when it exists)");
  const remote = (command: Command) =>
    local(command)
      .option('--server <url>', "ask this server's API instead of the data directory")
      .addOption(new Option('--api-key <key>', `an auditor's or admin's API key, with --server [env ${environmentVariables.apiKey}]`));
  const target = (opts: Target): Target => ({ ...opts, ...(opts.apiKey === undefined && env.apiKey !== undefined ? { apiKey: env.apiKey } : {}) });
  // `verifierKey`: verify with that key only (no signing key is read or made); else the data directory's signer.
  const withLedger = async <T>(opts: Target, work: (ledger: AuditLedger, store: Store) => Promise<T>, verifierKey?: string): Promise<T> => {
    const { store } = await openDataStore(ctx, opts);
    try {
      return await work(verifierKey === undefined ? await openAuditLedger(store, ctx.dataDir(opts.dataDir)) : verifyingLedger(store, verifierKey), store);
    } finally {
      await store.close();
    }
  };

  const audit = program.command('audit').description('the tamper-evident audit log: verify it, prove an entry is in it, sign a checkpoint, list events');

  local(
    audit
      .command('verify')
      .description('recompute the Merkle log from the store and check every leaf against its row and every signed checkpoint; with --proof, check a saved inclusion proof offline')
      .option('--proof <file>', "an inclusion proof printed by `ballast audit prove` ('-' reads standard input)")
      .option('--verifier-key <key>', `the log's verifier key, or a file holding it (default: <data-dir>/${auditVerifierKeyFile}); keep a copy off the host`)
      .option('--json', 'print JSON'),
  ).action(async (opts: Target & { proof?: string; verifierKey?: string; json?: boolean }) => {
    if (opts.proof !== undefined) {
      const doc = readProof(opts.proof);
      // Never the proof's own key: anyone can sign a proof with a key they made.
      const key = readVerifierKey(opts.verifierKey, opts.verifierKey === undefined ? ctx.dataDir(opts.dataDir) : undefined);
      const result = verifyInclusionDocument(doc, key);
      if (opts.json === true) out(JSON.stringify(result));
      else if (result.ok) out(`ok: ${doc.leaf.kind} ${doc.leaf.refId} is leaf ${doc.leaf.index} of the log of ${doc.treeSize} entries signed by ${key.slice(0, key.indexOf('+'))}`);
      else out(`FAILED: ${result.reason}`);
      if (!result.ok) ctx.setExitCode(exitCodes.auditFailed);
      return;
    }
    const verification = await withLedger(opts, (ledger) => ledger.verify(), readVerifierKey(opts.verifierKey, ctx.dataDir(opts.dataDir)));
    if (opts.json === true) out(JSON.stringify(verification, null, 2));
    else {
      out(`${verification.leaves} entries, ${verification.checkpoints} signed checkpoint${verification.checkpoints === 1 ? '' : 's'}, ${verification.uncovered} entr${verification.uncovered === 1 ? 'y' : 'ies'} after the last checkpoint`);
      if (verification.ok) out('ok: every entry matches its row and every checkpoint matches the log');
      else {
        out(`FAILED: ${verification.problems.length} problem${verification.problems.length === 1 ? '' : 's'}`);
        for (const p of verification.problems.slice(0, 50)) out(`  ${p.kind}: ${p.message}`);
        if (verification.problems.length > 50) out(`  … and ${verification.problems.length - 50} more (--json lists them all)`);
      }
    }
    if (!verification.ok) ctx.setExitCode(exitCodes.auditFailed);
  });

  remote(audit.command('prove').description('print an inclusion proof (JSON) that a decision, feedback or audit event is in the log unchanged; check it anywhere with `ballast audit verify --proof`').argument('<id>', 'dec_…, fb_… or aud_…')).action(
    async (id: string, opts: Target) => {
      const t = target(opts);
      const doc = t.server !== undefined ? ((await callApi(t, 'GET', `/v1/audit/proofs/inclusion/${encodeURIComponent(id)}`)) as InclusionProofDocument) : await withLedger(t, (ledger) => ledger.proveInclusion(id));
      out(JSON.stringify(doc, null, 2));
    },
  );

  remote(audit.command('checkpoint').description('sign a checkpoint of the log as it is now (a running server also does every minute and when it stops)')).action(async (opts: Target) => {
    const t = target(opts);
    const cp = t.server !== undefined ? ((await callApi(t, 'POST', '/v1/audit/checkpoints')) as { treeSize: number; rootHash: string; note: string }) : await withLedger(t, (ledger) => ledger.checkpoint());
    out(`checkpoint of ${cp.treeSize} entries, root ${cp.rootHash}`);
    out(cp.note.trimEnd());
  });

  local(
    audit
      .command('events')
      .description('list audit events, oldest first')
      .option('--action <action>', 'only this action, e.g. key.created')
      .option('--principal <name>', "only this principal's")
      .option('--since <time>', 'ISO time')
      .addOption(new Option('-n, --limit <n>', 'at most this many').default('100'))
      .option('--json', 'print JSON lines'),
  ).action(async (opts: Target & { action?: string; principal?: string; since?: string; limit: string; json?: boolean }) => {
    const limit = Number(opts.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new BallastError('REQUEST_INVALID', { detail: `--limit must be a positive integer, got '${opts.limit}'` });
    const events = await withLedger(opts, async (_l, store) => {
      // The store answers at most a page (1,000) at a time: page on until --limit events are read.
      const read: Awaited<ReturnType<typeof store.audit.list>> = [];
      for (;;) {
        const page = await store.audit.list({
          limit: limit - read.length,
          ...(opts.action === undefined ? {} : { action: opts.action }),
          ...(opts.principal === undefined ? {} : { principal: opts.principal }),
          ...(opts.since === undefined ? {} : { since: opts.since }),
          ...(read.length === 0 ? {} : { after: read[read.length - 1]!.id }),
        });
        read.push(...page);
        if (page.length === 0 || read.length >= limit) return read;
      }
    });
    for (const e of events) out(opts.json === true ? JSON.stringify(e) : `${e.at}  ${e.action.padEnd(18)} ${`${e.actor.principal} (${e.actor.role})`.padEnd(28)} ${e.resource.kind}:${e.resource.id}`);
    if (events.length === 0 && opts.json !== true) out('no audit events');
  });
}
