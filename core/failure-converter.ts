/**
 * Loaded by path into the workflow sandbox and used by the client, so failure messages and stack
 * traces are moved into an encoded payload and pass through the encrypting codec too.
 * Workflow-safe: imports only @temporalio/common.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
