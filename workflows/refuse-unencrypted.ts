/**
 * Workflow interceptor module (loaded by the orchestration worker): a workflow started, or
 * signalled, with a payload that was not encrypted by the carepipe codec fails at once,
 * non-retryably, naming the problem (core/unencrypted.ts says why the codec cannot do it itself).
 */
import { ApplicationFailure, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { UNENCRYPTED_FAILURE_TYPE, unencryptedRefusal } from '../core/unencrypted.js';

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      async execute(input, next) {
        const refusal = unencryptedRefusal(input.args, 'the workflow input');
        if (refusal) throw ApplicationFailure.nonRetryable(refusal, UNENCRYPTED_FAILURE_TYPE);
        return next(input);
      },
      async handleSignal(input, next) {
        const refusal = unencryptedRefusal(input.args, `signal ${input.signalName}`);
        if (refusal) throw ApplicationFailure.nonRetryable(refusal, UNENCRYPTED_FAILURE_TYPE);
        return next(input);
      },
    },
  ],
});
