import { ParentClosePolicy, WorkflowIdReusePolicy, executeChild, sleep } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { PromoteCandidateInput } from '../activities/registry/promote.js';
import type { PromotionResult } from '../schemas/workflows.js';
import { bookkeeping } from './activity-proxies.js';
import { checkActor } from './validate.js';

/**
 * Gates one candidate and moves the champion alias. Always run under the model's promotion lock
 * (`promoteUnderLock`): the workflow id `registry/<model>/promotion` can be running only once per
 * namespace, so promotions of a model are serialised even on stores whose conditional writes are
 * not atomic under races (versitygw 1.7.0); the conditional write stays as a second guard.
 */
export async function promoteWorkflow(input: PromoteCandidateInput): Promise<PromotionResult> {
  // A gated promotion is the end of a retrain (the gate decides, not the person); forcing or rolling back is a person's decision.
  const mode = input.mode ?? 'gate';
  checkActor(input.actor, mode === 'gate' ? 'retrain' : mode === 'force' ? 'promote' : 'rollback');
  return bookkeeping().promoteCandidate(input);
}

const LOCK_WAIT = '5s';
const LOCK_ATTEMPTS = 360; // 30 minutes of waiting for another promotion of the same model

export function promotionLockId(model: string): string {
  return `registry/${model}/promotion`;
}

export async function promoteUnderLock(input: PromoteCandidateInput): Promise<PromotionResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await executeChild(promoteWorkflow, {
        workflowId: promotionLockId(input.model),
        args: [input],
        parentClosePolicy: ParentClosePolicy.TERMINATE,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError) || attempt >= LOCK_ATTEMPTS) throw err;
      await sleep(LOCK_WAIT); // another promotion of this model holds the lock
    }
  }
}
