/**
 * The readmission ground truth, kept outside the raw zone: one row per index stay with the true
 * risk and the label the lake implies. The rows of a chunk are written as one part and dropped;
 * across chunks only two count histograms stay, from which the Bayes AUC is exact (risks are
 * quantised to RISK_RESOLUTION, so equal risks fall in one bin and count as ties).
 */
import { Field, Float64, Int32, Bool, Schema, Utf8, type Table } from 'apache-arrow';
import { lake } from '../layout.js';
import { BoolBuilder, Float64Builder, Int32Builder, Utf8Builder } from './columns.js';
import { tableOf } from './raw-rows.js';
import { RISK_RESOLUTION } from './risk.js';

export const groundTruthSchema = new Schema([
  new Field('encounter_id', new Utf8(), false),
  /** The risk function's value (README.md). */
  new Field('p', new Float64(), false),
  /** P(label = 1): p, times the chance a readmission would be admitted before the data end. */
  new Field('p_observed', new Float64(), false),
  new Field('label', new Int32(), false),
  /** The lake cannot show the 30 days after discharge: discharge + 30 d is not before the cutoff (timeline.ts). */
  new Field('censored', new Bool(), false),
]);

export function groundTruthKey(part: number): string {
  return lake.groundTruth(`readmission/part-${String(part).padStart(5, '0')}.parquet`);
}

/** Mann-Whitney AUC from per-bin counts of positives and negatives (ties count one half). */
export function aucFromHistograms(positives: ArrayLike<number>, negatives: ArrayLike<number>): number {
  let pos = 0;
  let negBelow = 0;
  let sum = 0;
  for (let b = 0; b < positives.length; b++) {
    const p = positives[b]!;
    const n = negatives[b]!;
    sum += p * (negBelow + n / 2);
    negBelow += n;
    pos += p;
  }
  return pos === 0 || negBelow === 0 ? NaN : sum / (pos * negBelow);
}

class RiskHistogram {
  readonly positives = new Uint32Array(RISK_RESOLUTION + 1);
  readonly negatives = new Uint32Array(RISK_RESOLUTION + 1);

  add(risk: number, label: number): void {
    const bin = Math.round(risk * RISK_RESOLUTION);
    if (label === 1) this.positives[bin]!++;
    else this.negatives[bin]!++;
  }

  auc(): number {
    return aucFromHistograms(this.positives, this.negatives);
  }
}

export class GroundTruth {
  indexStays = 0;
  readmissions = 0;
  censored = 0;
  riskSum = 0;
  /** p_observed of every index stay. */
  private readonly all = new RiskHistogram();
  /** p_observed (= p, bar the encounter cap) of the stays followed for 30 days. */
  private readonly complete = new RiskHistogram();
  private part = this.newPart();

  private newPart() {
    return {
      id: new Utf8Builder(),
      p: new Float64Builder(),
      observed: new Float64Builder(),
      label: new Int32Builder(),
      censored: new BoolBuilder(),
      length: 0,
    };
  }

  add(encounterId: string, p: number, pObserved: number, label: 0 | 1, censored: boolean): void {
    const t = this.part;
    t.id.append(encounterId);
    t.p.append(p);
    t.observed.append(pObserved);
    t.label.append(label);
    t.censored.append(censored);
    t.length++;
    this.indexStays++;
    this.readmissions += label;
    this.riskSum += p;
    this.all.add(pObserved, label);
    if (censored) this.censored++;
    else this.complete.add(pObserved, label);
  }

  /** The rows added since the last call, as a table; resets the part. */
  takePart(): Table {
    const t = this.part;
    this.part = this.newPart();
    return tableOf(groundTruthSchema, [t.id.finish(), t.p.finish(), t.observed.finish(), t.label.finish(), t.censored.finish()], t.length);
  }

  bayesAuc(): number {
    return this.all.auc();
  }

  bayesAucComplete(): number {
    return this.complete.auc();
  }
}
