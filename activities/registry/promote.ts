/**
 * The promotion step: gate the candidate against the champion, record the decision in the
 * candidate's metadata, move the champion alias by conditional write, and audit it.
 */
import { CorruptFileError, InvalidInputError, NotFoundError, PreconditionFailedError } from '../../core/errors.js';
import type { GateSettings, PromotionResult } from '../../schemas/workflows.js';
import type { ActivityDeps } from '../context.js';
import type { Identity } from '../../core/identity/roles.js';
import { moveAlias, readAlias } from './aliases.js';
import { appendAudit } from './audit.js';
import type { ObjectStore } from '../io/object-store.js';
import { type ChampionComparison, decideGate, type GateOutcome } from './gate.js';
import { type ModelMetadata, readMetadata, writeMetadata } from './metadata.js';
import { rescoreOnChallengerTestSet } from './rescore.js';

export interface PromoteCandidateInput {
  lake: string;
  model: string;
  version: string;
  gate: GateSettings;
  workflowId: string;
  /** Who asked (the retrain's actor for a gated promotion): recorded as the alias's `movedBy` and in the audit record. */
  actor: Identity;
  /**
   * `gate` (retraining): promote only if the gate passes. `force` (an operator's `models promote`)
   * and `rollback` (back to the previous champion) skip the gate but are recorded and audited
   * the same way, with the operator's reason.
   */
  mode?: 'gate' | 'force' | 'rollback';
  reason?: string;
}

/** The champion compared on the challenger's test patients; recorded numbers when it cannot be re-scored. */
async function compareWithChampion(store: ObjectStore, challenger: ModelMetadata, champion: ModelMetadata): Promise<ChampionComparison> {
  try {
    const r = await rescoreOnChallengerTestSet(store, challenger, champion.version);
    return {
      version: champion.version,
      basis: 'rescored',
      rows: r.rows,
      challengerRocAuc: r.challengerRocAuc,
      championRocAuc: r.championRocAuc,
      subgroups: r.subgroups,
    };
  } catch (err) {
    // A champion trained on other features (a schema change) cannot score these rows: say so, compare what was recorded.
    if (!(err instanceof InvalidInputError || err instanceof NotFoundError || err instanceof CorruptFileError)) throw err;
    return {
      version: champion.version,
      basis: 'recorded',
      note: `the champion could not be re-scored: ${err.message}`,
      challengerRocAuc: challenger.metrics.rocAuc,
      championRocAuc: champion.metrics.rocAuc,
      subgroups: [],
    };
  }
}

export async function promoteCandidate(deps: ActivityDeps, input: PromoteCandidateInput): Promise<PromotionResult> {
  const store = deps.lake(input.lake);
  const { version } = input;
  const mode = input.mode ?? 'gate';
  const metadata = await readMetadata(store, input.model, version);
  if (!metadata) throw new NotFoundError(`registry: ${input.model} version ${version} has no model_metadata.yaml`);
  const actor = input.actor.subject;
  const alias = await readAlias(store, input.model);
  // The alias already names this version: a retry of this promotion after its alias move (the
  // worker died, or a later write failed), or an earlier move. Either way the decision, its
  // metadata and its audit record are completed below, against the champion it replaced.
  const alreadyMoved = alias.doc?.version === version;
  const replaced = alreadyMoved ? alias.doc!.previous : (alias.doc?.version ?? null);
  const championMeta = replaced ? await readMetadata(store, input.model, replaced) : undefined;
  const champion = championMeta && mode === 'gate' ? await compareWithChampion(store, metadata, championMeta) : null;
  let outcome: GateOutcome =
    mode === 'gate'
      ? decideGate(metadata.metrics, champion, input.gate)
      : { decision: 'promoted', reason: `${mode} by an operator${input.reason ? `: ${input.reason}` : ''}`, subgroupDrops: [] };
  // A gate record the stopped attempt already wrote for this promotion stands as written.
  const keptGate = alreadyMoved && mode === 'gate' && metadata.gate?.decision === 'promoted' ? metadata.gate : undefined;
  if (alreadyMoved) {
    // What was decided then stands: the alias moved.
    outcome = keptGate ? { decision: 'promoted', reason: keptGate.reason, subgroupDrops: keptGate.subgroupDrops } : { ...outcome, decision: 'promoted' };
  } else if (outcome.decision === 'promoted') {
    try {
      await moveAlias(store, input.model, alias, version, input.actor.subject);
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err;
      outcome = { decision: 'rejected', reason: 'another promotion moved the champion alias first', subgroupDrops: [] };
    }
  }
  if (mode === 'gate' && !keptGate) {
    // The gate's own decision stays in the metadata; operators' moves are in the audit chain.
    metadata.gate = {
      ...outcome,
      decidedAt: new Date().toISOString(),
      champion: champion?.version ?? null,
      comparison: champion
        ? {
            basis: champion.basis,
            rows: champion.rows ?? null,
            note: champion.note ?? null,
            challengerRocAuc: champion.challengerRocAuc,
            championRocAuc: champion.championRocAuc,
          }
        : null,
      subgroups: champion?.subgroups ?? [],
      challengerRocAuc: metadata.metrics.rocAuc,
      challengerEce: metadata.metrics.ece,
      settings: input.gate,
    };
    await writeMetadata(store, metadata);
  }
  await appendAudit(store, `registry-${input.model}`, {
    eventId: `${mode}:${version}:${input.workflowId}`,
    actor,
    event: {
      type: mode,
      model: input.model,
      version,
      decision: outcome.decision,
      reason: outcome.reason,
      previousChampion: replaced,
      workflowId: input.workflowId,
      actor: { subject: input.actor.subject, issuer: input.actor.issuer, roles: input.actor.roles },
    },
  });
  return { promoted: outcome.decision === 'promoted', version, previousChampion: replaced, reason: outcome.reason };
}
