// `ballast appeals file|list`: appeals of a running server's decisions, by or for their data subject.
import type { Command } from 'commander';
import type { EnvironmentSettings } from '../environment.js';
import { callApi } from './keys-command.js';
import { formatItem, targetOf, withServer, type ServerOptions } from './review-command.js';

interface Context {
  readonly env: EnvironmentSettings;
  readonly out: (line: string) => void;
}

const appealsPath = (decisionId: string) => `/v1/decisions/${encodeURIComponent(decisionId)}/appeals`;

/** Adds `appeals file` and `appeals list` to the program. */
export function registerAppealsCommand(program: Command, { env, out }: Context): void {
  const appeals = program.command('appeals').description("appeals of a running server's decisions: file one (it opens a review item with the appeal SLA), list them");

  withServer(appeals.command('file').description('appeal a decision with the data subject\'s statement; a reviewer who decided it before never judges the appeal'), "a decider's key")
    .argument('<decision-id>', 'the decision appealed (dec_…)')
    .requiredOption('--statement <text>', 'why the decision is wrong, in the subject\'s words')
    .option('--reference <ref>', 'your case or ticket number (never the subject\'s identity)')
    .option('--representative', 'filed for the subject by someone else (support staff, a lawyer)')
    .action(async (decisionId: string, opts: ServerOptions & { statement: string; reference?: string; representative?: boolean }) => {
      const body = { statement: opts.statement, filedBy: opts.representative === true ? 'representative' : 'subject', ...(opts.reference === undefined ? {} : { reference: opts.reference }) };
      const item = (await callApi(targetOf(env, opts), 'POST', appealsPath(decisionId), body)) as { id: string; dueAt: string };
      if (opts.json === true) out(JSON.stringify(item, null, 2));
      else out(`filed appeal ${item.id} of ${decisionId}; due ${item.dueAt}`);
    });

  withServer(appeals.command('list').description('the appeals of a decision, oldest first, with their outcomes'), 'a key that may see the decision\'s reviews')
    .argument('<decision-id>', 'the decision (dec_…)')
    .action(async (decisionId: string, opts: ServerOptions) => {
      const answer = (await callApi(targetOf(env, opts), 'GET', appealsPath(decisionId))) as { decisionId: string; appeals: Parameters<typeof formatItem>[0][] };
      if (opts.json === true) out(JSON.stringify(answer, null, 2));
      else if (answer.appeals.length === 0) out(`no appeals of ${decisionId}`);
      else for (const a of answer.appeals) for (const line of formatItem(a)) out(line);
    });
}
