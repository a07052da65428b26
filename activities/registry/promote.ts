/**
 * The promotion step: gate the candidate against the champion, record the decision in the
 * candidate's metadata, move the champion alias by conditional write, and audit it.
 */
import { NotFoundError, PreconditionFailedError } from '../../core/errors.js';
import type { GateSettings, PromotionResult } from '../../schemas/workflows.js';
import type { ActivityDeps } from '../context.js';
import { moveAlias, readAlias } from './aliases.js';
import { appendAudit } from './audit.js';
import { type GateDecision, readMetadata, writeMetadata } from './metadata.js';

export interface PromoteCandidateInput {
  lake: string;
  model: string;
  version: string;
  gate: GateSettings;
  workflowId: string;
  /**
   * `gate` (retraining): promote only if the gate passes. `force` (an operator's `models promote`)
   * and `rollback` (back to the previous champion) skip the gate but are recorded and audited
   * the same way, with the operator's reason.
   */
  mode?: 'gate' | 'force' | 'rollback';
  reason?: string;
}

export function decideGate(
  challenger: { rocAuc: number; ece: number }, champion: { version: string; rocAuc: number } | null, gate: GateSettings,
): Pick<GateDecision, 'decision' | 'reason'> {
  if (!(challenger.ece <= gate.maxEce)) {
    return { decision: 'rejected', reason: `expected calibration error ${challenger.ece.toFixed(4)} exceeds the bound ${gate.maxEce}` };
  }
  if (champion && !(challenger.rocAuc >= champion.rocAuc - gate.aucMargin)) {
    return { decision: 'rejected', reason: `test ROC AUC ${challenger.rocAuc.toFixed(4)} is below champion ${champion.version}'s ${champion.rocAuc.toFixed(4)} minus the margin ${gate.aucMargin}` };
  }
  return { decision: 'promoted', reason: champion ? `test ROC AUC ${challenger.rocAuc.toFixed(4)} within ${gate.aucMargin} of champion ${champion.version}'s ${champion.rocAuc.toFixed(4)} or better` : 'no champion yet' };
}

export async function promoteCandidate(deps: ActivityDeps, input: PromoteCandidateInput): Promise<PromotionResult> {
  const store = deps.lake(input.lake);
  const { version } = input;
  const mode = input.mode ?? 'gate';
  const metadata = await readMetadata(store, input.model, version);
  if (!metadata) throw new NotFoundError(`registry: ${input.model} version ${version} has no model_metadata.yaml`);
  const alias = await readAlias(store, input.model);
  if (alias.doc?.version === version) {
    // A retry after this very promotion succeeded: report it, change nothing.
    return { promoted: true, version, previousChampion: alias.doc.previous, reason: metadata.gate?.reason ?? 'already champion' };
  }
  const championMeta = alias.doc ? await readMetadata(store, input.model, alias.doc.version) : undefined;
  const champion = championMeta ? { version: championMeta.version, rocAuc: championMeta.metrics.rocAuc } : null;
  let outcome = mode === 'gate'
    ? decideGate(metadata.metrics, champion, input.gate)
    : { decision: 'promoted' as const, reason: `${mode} by an operator${input.reason ? `: ${input.reason}` : ''}` };
  if (outcome.decision === 'promoted') {
    try {
      await moveAlias(store, input.model, alias, version, input.workflowId);
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err;
      outcome = { decision: 'rejected', reason: 'another promotion moved the champion alias first' };
    }
  }
  if (mode === 'gate') {
    // The gate's own decision stays in the metadata; operators' moves are in the audit chain.
    metadata.gate = {
      ...outcome, decidedAt: new Date().toISOString(), champion: champion?.version ?? null, championRocAuc: champion?.rocAuc ?? null,
      challengerRocAuc: metadata.metrics.rocAuc, challengerEce: metadata.metrics.ece, aucMargin: input.gate.aucMargin, maxEce: input.gate.maxEce,
    };
    await writeMetadata(store, metadata);
  }
  await appendAudit(store, `registry-${input.model}`, `${mode}:${version}:${input.workflowId}`, {
    type: mode, model: input.model, version, decision: outcome.decision, reason: outcome.reason,
    previousChampion: champion?.version ?? null, workflowId: input.workflowId,
  });
  return { promoted: outcome.decision === 'promoted', version, previousChampion: champion?.version ?? null, reason: outcome.reason };
}
