/**
 * A test workflow over the product's fan-out helper (workflows/fan-out.ts): one trivial activity
 * per shard, a sliding window, continue-as-new whenever the history is full, a running sum
 * carried across runs. Bundled on its own by fan-out-scale.test.ts.
 */
import { continueAsNew, proxyActivities } from '@temporalio/workflow';
import { HISTORY_EVENTS_BEFORE_CONTINUE, mapUntilHistoryFull } from '../../workflows/fan-out.js';

export interface ShardActivities {
  /** Records that the shard ran and returns its number. */
  touchShard(shard: number): Promise<number>;
}

export interface FanOutShardsInput {
  shards: number;
  maxInFlight: number;
  historyLimit?: number;
  cursor?: { next: number; sum: number; runs: number };
}

export interface FanOutShardsResult {
  shards: number;
  /** The sum of every shard's answer, carried across the runs. */
  sum: number;
  runs: number;
}

const { touchShard } = proxyActivities<ShardActivities>({ startToCloseTimeout: '1m' });

export async function fanOutShardsWorkflow(input: FanOutShardsInput): Promise<FanOutShardsResult> {
  const shards = Array.from({ length: input.shards }, (_, i) => i);
  let sum = input.cursor?.sum ?? 0;
  const runs = (input.cursor?.runs ?? 0) + 1;
  const next = await mapUntilHistoryFull(
    shards,
    input.cursor?.next ?? 0,
    input.maxInFlight,
    input.historyLimit ?? HISTORY_EVENTS_BEFORE_CONTINUE,
    async (shard) => {
      const answer = await touchShard(shard); // awaited first: `sum += await` would add to a stale sum
      sum += answer;
    },
  );
  if (next < shards.length) await continueAsNew<typeof fanOutShardsWorkflow>({ ...input, cursor: { next, sum, runs } });
  return { shards: shards.length, sum, runs };
}
