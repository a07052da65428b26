/**
 * The serving application: Fastify with route schemas (validation without type coercion, fast
 * serialisation, and the OpenAPI document at /openapi.json through @fastify/swagger), carepipe's
 * v1 routes and the Open Inference Protocol's v2 routes, and one error handler that answers every
 * refusal with an RFC 9457 problem document. Fastify's own request logging is off: carepipe logs
 * one line per scored batch (model, version, stays), never a body, a header or an error message
 * from a parser (V8's JSON errors quote the input).
 */
import swagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { ServeContext } from './context.js';
import { badInput, type Problem, ProblemError } from './problem.js';
import { registerV1 } from './routes-v1.js';
import { registerV2 } from './routes-v2.js';

export interface AppOptions {
  /** Largest request body, bytes. */
  bodyLimit: number;
}

export async function buildApp(ctx: ServeContext, options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimit,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, allowUnionTypes: true } },
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'carepipe serving', version: '1', description: 'Readmission risk predictions from the registered champion (or a pinned version).' },
    },
  });
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const problem = toProblem(err, ctx);
    const body: Problem & { error?: string } = request.url.startsWith('/v2/') ? { ...problem, error: problem.detail } : problem;
    void reply.code(problem.status).type('application/problem+json').send(JSON.stringify(body));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply
      .code(404)
      .type('application/problem+json')
      .send(JSON.stringify(new ProblemError(404, 'not-found', 'Not found', `no route ${request.method} ${request.url.split('?')[0]}`).toProblem()));
  });
  registerV1(app, ctx);
  registerV2(app, ctx);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.ready();
  return app;
}

function toProblem(err: FastifyError, ctx: ServeContext): Problem {
  if (err instanceof ProblemError) return err.toProblem();
  if (err.validation && err.validation.length > 0) {
    const v = err.validation[0]!;
    const missing = v.keyword === 'required' ? `/${String((v.params as { missingProperty?: string }).missingProperty ?? '')}` : '';
    const extra = v.keyword === 'additionalProperties' ? `/${String((v.params as { additionalProperty?: string }).additionalProperty ?? '')}` : '';
    const where = err.validationContext === 'params' ? '/params' : '';
    const field = `${where}${v.instancePath}${missing}${extra}` || '/';
    const reason = v.keyword === 'type' ? 'wrong-type' : v.keyword === 'required' ? 'missing-field' : extra ? 'unknown-field' : 'invalid-body';
    // Ajv's messages describe the schema ("must be number"), never the value.
    return badInput(field, reason, v.message ?? 'does not match the schema').toProblem();
  }
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return badInput('/', 'body-too-large', `the body is larger than this server's limit of ${ctx.limits.maxBodyBytes} bytes`).toProblem();
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return badInput('/', 'invalid-body', 'the body must be application/json').toProblem();
  if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err instanceof SyntaxError || err.statusCode === 400) {
    return badInput('/', 'invalid-body', 'the body is not valid JSON').toProblem();
  }
  ctx.logger.error('serve: request failed', { error: err.name, code: err.code ?? null });
  return new ProblemError(500, 'internal', 'Internal error', 'the request could not be answered; the server log has the error type').toProblem();
}
