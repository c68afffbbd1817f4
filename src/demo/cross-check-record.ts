// What the demo reads of a decision's cross-checks from the API's answer (explanation.crossChecks and
// the reasons), kept apart from the report so the replay can record it without importing the report.

/** One checker's entry of a decision's explanation.crossChecks, the parts the demo reads. */
export interface DemoCrossCheck {
  readonly name: string;
  readonly verdict: 'agree' | 'disagree' | 'unavailable';
  /** What the policy did on a disagreement. */
  readonly action: string | null;
  /** The checker's label (its output's /label), when it answered. */
  readonly label: string | null;
}

/** The cross-checks of an API answer's explanation (none when the service has no checker). */
export function crossChecksOf(explanation: unknown): DemoCrossCheck[] {
  const checks = (explanation as { crossChecks?: unknown } | null | undefined)?.crossChecks;
  if (!Array.isArray(checks)) return [];
  return checks.map((c: { name?: unknown; verdict?: unknown; action?: unknown; output?: { label?: unknown } | null; fields?: { field?: unknown; checker?: unknown }[] }) => {
    const label = c.output?.label ?? c.fields?.find((f) => f.field === '/label')?.checker;
    return {
      name: String(c.name),
      verdict: c.verdict === 'agree' || c.verdict === 'disagree' ? c.verdict : 'unavailable',
      action: typeof c.action === 'string' ? c.action : null,
      label: typeof label === 'string' ? label : null,
    };
  });
}

/** The reasons that pushed a decision to review, as `kind/code` (e.g. `cross_check/disagreement`). */
export function reviewReasonsOf(explanation: unknown): string[] {
  const reasons = (explanation as { reasons?: unknown } | null | undefined)?.reasons;
  if (!Array.isArray(reasons)) return [];
  return reasons.filter((r: { effect?: unknown }) => r.effect === 'review').map((r: { kind?: unknown; code?: unknown }) => `${String(r.kind)}/${String(r.code)}`);
}
