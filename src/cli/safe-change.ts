// The composition of safe change for a running server: rollouts (controller, analysis over the store),
// approval gates, the kill switch, and the routing the pipeline reads once per request. The registry
// is consulted for versions' digests, authors and evaluations when it is there.
import { analyze, collectObservations, forShadow, judgeExperiment, shadowAgreement, createApprovals, createKillSwitch, createRolloutController, evaluateGate, resolveAnalysisConfig, resolveGates, type Approvals, type EngagedSwitch, type GateInput, type GateResult, type KillSwitch, type RiskTier, type RolloutController, type AnalysisVerdict, type GatesConfig, type VersionEvaluation } from '../governance/index.js';
import { BallastError } from '../errors/index.js';
import { fairnessConfigOf, fairnessReport } from '../monitoring/fairness/index.js';
import type { ServiceCatalog } from '../pipeline/index.js';
import type { RolloutRouting, RoutingPlan } from '../routing/index.js';
import type { Actor, Store } from '../store/index.js';
import type { LiveConfig } from './live-config.js';

/** What the gate needs to know of a version: from the registry when it has it. */
export interface VersionFacts {
  readonly digest: string;
  readonly author: string;
  readonly evaluation?: VersionEvaluation;
}

export interface SafeChangeDeps {
  readonly store: Store;
  readonly catalog: ServiceCatalog;
  readonly live: LiveConfig;
  /** A version's digest, author and evaluation; undefined when the registry does not know it. */
  versionFacts(service: string, version: string): Promise<VersionFacts | undefined>;
  /** A lifecycle transition in the registry. */
  transition(service: string, version: string, to: string, ctx: { readonly actor: Actor; readonly reason: string; readonly rolloutId: string }): Promise<void>;
  /** Refuses (MODEL_TRANSITION_INVALID) a version the registry may not move to `to` (a retired version cannot be tried again). */
  checkTransition?(service: string, version: string, to: 'shadow' | 'canary'): Promise<void>;
  readonly onError?: (error: unknown, what: string) => void;
  readonly evaluateEveryMs?: number;
}

export interface SafeChange {
  readonly rollouts: RolloutController;
  readonly approvals: Approvals;
  readonly killSwitch: KillSwitch;
  /** The pipeline's routing: the rollout's plan with the kill switch over it. Synchronous, cached. */
  routing(service: string): RoutingPlan | undefined;
  /** The gate of promoting `version` of `service` now, every check with a sentence. */
  gate(service: string, version: string): Promise<GateResult>;
  gateInputs(service: string, version: string): Promise<Omit<GateInput, 'approvals'> | undefined>;
  versionFacts: SafeChangeDeps['versionFacts'];
  /** Loads rollouts and kill switches from the store and starts the analysis timer. */
  start(): Promise<void>;
  stop(): void;
}

interface ServiceGateConfig {
  readonly risk?: RiskTier;
  readonly gates?: GatesConfig;
  readonly rollout?: { readonly analysis?: unknown };
}

export function createSafeChange(deps: SafeChangeDeps): SafeChange {
  const { store, catalog } = deps;
  const killSwitch = createKillSwitch({ store });
  const approvals = createApprovals({ store });
  const serviceConfig = (service: string): ServiceGateConfig => (catalog.get(service)?.config ?? {}) as ServiceGateConfig;

  const observationsOf = async (rollout: Parameters<Parameters<typeof createRolloutController>[0]['analyze']>[0], window: { since: string; until: string }) => {
    const resolved = resolveAnalysisConfig(rollout.spec.analysis);
    // A shadow answer is never served: its fallback and review rates mean nothing.
    const config = rollout.strategy === 'shadow' ? forShadow(resolved) : resolved;
    const collected = await collectObservations(store, {
      service: rollout.service,
      since: window.since,
      until: window.until,
      stable: rollout.stable,
      candidate: rollout.candidate,
      rolloutId: rollout.id,
      shadow: rollout.strategy === 'shadow',
      segments: config.segments,
    });
    return { config, collected };
  };

  /** The verdict promoting a version, given to the gate before it is kept. */
  type PromotingAnalysis = { readonly verdict: AnalysisVerdict; readonly rolloutId: string; readonly at: string };

  /** What the gate judges of `version`, all but the approvals; undefined when the registry does not know it. */
  async function gateInputs(service: string, version: string, promoting?: PromotingAnalysis): Promise<Omit<GateInput, 'approvals'> | undefined> {
    const facts = await deps.versionFacts(service, version);
    if (facts === undefined) return undefined;
    const cfg = serviceConfig(service);
    const resolved = resolveGates(cfg.risk, cfg.gates);
    if (!resolved.ok) throw new BallastError('CONFIG_INVALID', { detail: `service ${service}: its gates: block is invalid`, issues: resolved.issues });
    const status = await rollouts.status(service);
    let lastAnalysis: { verdict: 'pass' | 'fail' | 'inconclusive'; at: string; rolloutId: string } | undefined;
    if (status !== undefined && status.rollout.candidate === version) {
      for (const event of status.events) {
        const verdict = (event.detail as { verdict?: { verdict?: string } }).verdict;
        if (event.kind === 'analysis' && verdict !== undefined && typeof verdict.verdict === 'string') lastAnalysis = { verdict: verdict.verdict as 'pass', at: event.at, rolloutId: event.rolloutId };
      }
    }
    if (promoting !== undefined) lastAnalysis = { verdict: promoting.verdict.verdict, at: promoting.at, rolloutId: promoting.rolloutId };
    // The candidate's own decisions since its rollout began (or the fairness window, without a rollout of it).
    const compiled = catalog.get(service);
    const fairnessConfig = compiled === undefined ? undefined : fairnessConfigOf(compiled);
    let fairness: GateInput['fairness'];
    if (fairnessConfig !== undefined) {
      const until = new Date().toISOString();
      const since = status !== undefined && status.rollout.candidate === version ? status.rollout.createdAt : new Date(Date.now() - fairnessConfig.windowMs).toISOString();
      const report = await fairnessReport(store, { service, config: fairnessConfig, since, until, version });
      fairness = { state: report.state, decisions: report.decisions, messages: report.fields.map((f) => f.message) };
    }
    return {
      risk: cfg.risk ?? 'low',
      gates: resolved.value,
      version: { name: version, digest: facts.digest, author: facts.author, ...(facts.evaluation === undefined ? {} : { evaluation: facts.evaluation }) },
      revision: catalog.revision,
      ...(lastAnalysis === undefined ? {} : { lastAnalysis }),
      ...(fairness === undefined ? {} : { fairness }),
    };
  }

  async function gate(service: string, version: string, promoting?: PromotingAnalysis): Promise<GateResult> {
    const inputs = await gateInputs(service, version, promoting);
    if (inputs === undefined) {
      const cfg = serviceConfig(service);
      // Without a registered version there is no author to keep from approving, nor an evaluation: only a
      // low-risk service that asks for nothing more may promote it.
      if ((cfg.risk ?? 'low') === 'low' && cfg.gates === undefined) return { ok: true, checks: [{ check: 'registry', ok: true, detail: `${service}/${version} is not in the model registry; the low-risk tier asks for nothing` }], issues: [] };
      return { ok: false, checks: [{ check: 'registry', ok: false, detail: `${service}/${version} is not in the model registry` }], issues: [{ pointer: `/services/${service}/models/${version}`, code: 'unregistered', message: 'the version is not registered' }] };
    }
    const valid = await approvals.valid({ service, version, digest: inputs.version.digest, revision: inputs.revision });
    return evaluateGate({ ...inputs, approvals: valid });
  }

  const rollouts: RolloutController = createRolloutController({
    store,
    async analyze(rollout, window) {
      const { config, collected } = await observationsOf(rollout, window);
      const verdict = analyze(config, { stable: collected.stable, candidate: collected.candidate, window, stableVersion: rollout.stable, candidateVersion: rollout.candidate });
      // A shadow's verdict also says how far the copies agreed with what was served (kept with the verdict).
      if (rollout.strategy === 'shadow') return { ...verdict, agreement: shadowAgreement(collected.pairs ?? []) };
      if (rollout.strategy !== 'experiment') return verdict;
      return judgeExperiment(verdict, { control: collected.stable, treatment: collected.candidate }, rollout.weight, config.confidence);
    },
    async checkCandidate(service, candidate, strategy) {
      // A candidate must be a version of the running revision, or nothing would ever route to it.
      if (catalog.get(service)?.versions.has(candidate) !== true) {
        throw new BallastError('VERSION_NOT_FOUND', { detail: `${service}/${candidate} is not a version of the running revision ${catalog.revision}: apply a configuration that names it first`, issues: [{ pointer: '/candidate', code: 'not_found', message: `not in revision ${catalog.revision}` }] });
      }
      await deps.checkTransition?.(service, candidate, strategy === 'shadow' ? 'shadow' : 'canary');
    },
    // Polled every tick until the step has its decisions: a count in the store, not the analysis's collection.
    // It counts what the analysis would compare: routed decisions in either arm, or shadow answers paired with theirs.
    async countDecisions(rolloutId, since) {
      const found = activeRollout(rolloutId);
      if (found === undefined) return 0;
      const { service, rollout } = found;
      const until = new Date(Date.now() + 1).toISOString();
      return rollout.strategy === 'shadow'
        ? store.shadows.countPaired({ rolloutId, service, version: rollout.candidate, since, until })
        : store.decisions.countRouted({ service, rolloutId, since, until });
    },
    transition: (service, version, to, ctx) => deps.transition(service, version, to, ctx),
    async checkGate(service, candidate, analysis) {
      const result = await gate(service, candidate, analysis);
      return { ok: result.ok, issues: result.issues };
    },
    async promoteLive(service, version, ctx) {
      const result = await deps.live.setLive(service, version, { actor: ctx.actor, reason: ctx.reason, source: `rollout ${ctx.rolloutId}` });
      return { revision: result.revision };
    },
    stableOf: (service) => {
      const s = catalog.get(service);
      if (s === undefined) throw new BallastError('SERVICE_NOT_FOUND', { detail: `no service named '${service}'` });
      return s.config.live;
    },
    configOf: (service) => serviceConfig(service).rollout,
    ...(deps.onError === undefined ? {} : { onError: (error: unknown) => deps.onError!(error, 'rollouts') }),
    ...(deps.evaluateEveryMs === undefined ? {} : { evaluateEveryMs: deps.evaluateEveryMs }),
  });
  /** The service whose active rollout is `rolloutId`, from the controller's plans (a rollout's service is in the catalog). */
  function activeRollout(rolloutId: string): { readonly service: string; readonly rollout: RolloutRouting } | undefined {
    for (const service of catalog.keys()) {
      const rollout = rollouts.plan(service).rollout;
      if (rollout?.id === rolloutId) return { service, rollout };
    }
    return undefined;
  }

  // The plan the pipeline reads is the controller's (cached there), with the kill switch over it when engaged. Both
  // are objects replaced whole on a change, so the combination is made again only when either is a new object.
  const combined = new Map<string, { readonly base: RoutingPlan; readonly killed: EngagedSwitch; readonly plan: RoutingPlan }>();
  let refresh: NodeJS.Timeout | undefined;

  return {
    rollouts,
    approvals,
    killSwitch,
    versionFacts: deps.versionFacts,
    gate,
    gateInputs,
    routing(service) {
      // A request that began before an apply removed its service: it has no plan (the controller would throw).
      if (!catalog.has(service)) return undefined;
      const base = rollouts.plan(service);
      const killed = killSwitch.engaged(service);
      if (killed === undefined) return base;
      const cached = combined.get(service);
      if (cached !== undefined && cached.base === base && cached.killed === killed) return cached.plan;
      const plan: RoutingPlan = Object.freeze({ ...base, killed: { since: killed.since, reason: killed.reason } });
      combined.set(service, { base, killed, plan });
      return plan;
    },
    async start() {
      await killSwitch.load();
      await rollouts.load();
      rollouts.startTimer();
      // Another replica's kill switch reaches this one at the next refresh (the rollouts refresh at every tick).
      refresh = setInterval(() => void killSwitch.load().catch((error: unknown) => deps.onError?.(error, 'refreshing the kill switches')), deps.evaluateEveryMs ?? 5000);
      refresh.unref();
    },
    stop() {
      rollouts.stopTimer();
      clearInterval(refresh);
    },
  };
}
