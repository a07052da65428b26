/**
 * Activity interceptor: an activity whose input arrived unencrypted (core/unencrypted.ts) fails
 * non-retryably, naming the problem, before it touches the lake.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { UNENCRYPTED_FAILURE_TYPE, unencryptedRefusal } from '../core/unencrypted.js';

export const refuseUnencrypted: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      const refusal = unencryptedRefusal(input.args, `activity ${ctx.info.activityType}'s input`);
      if (refusal) throw ApplicationFailure.nonRetryable(refusal, UNENCRYPTED_FAILURE_TYPE);
      return next(input);
    },
  },
});
