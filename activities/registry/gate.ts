/**
 * The promotion gate, as a pure decision over numbers measured elsewhere: calibration within
 * bounds; test ROC AUC no worse than the champion's minus a margin, both scored on the same
 * held-out patients; and no subgroup with enough patients dropping by more than its margin.
 */
import type { GateSettings } from '../../schemas/workflows.js';
import type { SubgroupComparison } from './metadata.js';

export interface ChampionComparison {
  version: string;
  /** `rescored`: both models scored on the challenger's test patients; `recorded`: each on its own test set. */
  basis: 'rescored' | 'recorded';
  /** Why the comparison fell back to recorded numbers. */
  note?: string;
  rows?: number;
  challengerRocAuc: number;
  championRocAuc: number;
  subgroups: SubgroupComparison[];
}

export interface GateOutcome {
  decision: 'promoted' | 'rejected';
  reason: string;
  /** Subgroups (attribute=group) whose AUC dropped past the margin. */
  subgroupDrops: string[];
}

export function decideGate(challenger: { rocAuc: number; ece: number }, champion: ChampionComparison | null, gate: GateSettings): GateOutcome {
  if (!(challenger.ece <= gate.maxEce)) {
    return { decision: 'rejected', reason: `expected calibration error ${challenger.ece.toFixed(4)} exceeds the bound ${gate.maxEce}`, subgroupDrops: [] };
  }
  if (!champion) return { decision: 'promoted', reason: 'no champion yet', subgroupDrops: [] };
  const basis =
    champion.basis === 'rescored'
      ? ` (both scored on the same ${champion.rows} held-out stays)`
      : ` (recorded test sets${champion.note ? `: ${champion.note}` : ''})`;
  if (!(champion.challengerRocAuc >= champion.championRocAuc - gate.aucMargin)) {
    return {
      decision: 'rejected',
      subgroupDrops: [],
      reason: `test ROC AUC ${champion.challengerRocAuc.toFixed(4)} is below champion ${champion.version}'s ${champion.championRocAuc.toFixed(4)} minus the margin ${gate.aucMargin}${basis}`,
    };
  }
  const drops = champion.subgroups
    .filter(
      (s) =>
        s.count >= gate.minSubgroupCount &&
        s.challengerRocAuc !== null &&
        s.championRocAuc !== null &&
        s.challengerRocAuc < s.championRocAuc - gate.subgroupMargin,
    )
    .map((s) => `${s.attribute}=${s.group}`);
  if (drops.length > 0) {
    return {
      decision: 'rejected',
      subgroupDrops: drops,
      reason: `ROC AUC drops by more than ${gate.subgroupMargin} against champion ${champion.version} in ${drops.join(', ')}${basis}`,
    };
  }
  return {
    decision: 'promoted',
    subgroupDrops: [],
    reason: `test ROC AUC ${champion.challengerRocAuc.toFixed(4)} within ${gate.aucMargin} of champion ${champion.version}'s ${champion.championRocAuc.toFixed(4)} or better, no subgroup of ${gate.minSubgroupCount}+ stays dropping by more than ${gate.subgroupMargin}${basis}`,
  };
}
