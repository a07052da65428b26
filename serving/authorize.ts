/**
 * Access control's hook. Every route asks `authorize(request, permission)` before it answers.
 * API keys and JWTs with roles are another change's (the identity module, issue 14 item 5); until
 * it is wired here, serving is loopback-only: a request from any other address is refused with 403,
 * whatever address the server was told to bind.
 */
import type { FastifyRequest } from 'fastify';
import { ProblemError } from './problem.js';

export type Permission = 'predict' | 'metadata';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

export function authorize(request: FastifyRequest, permission: Permission): void {
  const address = request.socket.remoteAddress ?? '';
  if (!LOOPBACK.test(address)) {
    throw new ProblemError(403, 'forbidden', 'Forbidden', `${permission} is allowed from loopback only until access control is configured`);
  }
}
