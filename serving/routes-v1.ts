/** carepipe's own routes: health, the model catalogue with feature schemas, and predict (champion or pinned version). */
import type { FastifyInstance } from 'fastify';
import { listVersions } from '../activities/registry/catalog.js';
import { authorize } from './authorize.js';
import type { ServeContext } from './context.js';
import { type PredictRequest, predictBatch } from './predict.js';
import { notFound, unavailable } from './problem.js';
import { errors, MODEL_DETAIL, NAME_PARAMS, PREDICT_BODY, PREDICT_RESPONSE, VERSION_PARAMS } from './schemas.js';
import type { ServedModel } from './served-model.js';

/** find-my-way reads `:name::predict` as one parameter named "name::predict"; a regexp parameter ends where the literal `:predict` starts. */
const ID = '(^[A-Za-z0-9][A-Za-z0-9._-]*)';

export function registerV1(app: FastifyInstance, ctx: ServeContext): void {
  const { host } = ctx;
  app.get('/healthz', { schema: { tags: ['health'], response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } }, async () => ({
    status: 'ok',
  }));
  app.get(
    '/readyz',
    { schema: { tags: ['health'], response: { 200: { type: 'object', properties: { status: { type: 'string' } } }, 503: errors[503] } } },
    async () => {
      if (!host.ready()) throw unavailable('the champion of every served model is not loaded yet');
      return { status: 'ready' };
    },
  );

  app.get(
    '/v1/models',
    {
      schema: {
        tags: ['models'],
        response: {
          200: {
            type: 'object',
            properties: {
              models: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, champion: { type: ['string', 'null'] } } } },
            },
          },
        },
      },
    },
    async (request) => {
      authorize(request, 'metadata');
      return { models: host.modelNames().map((name) => ({ name, champion: host.champion(name)?.version ?? null })) };
    },
  );

  app.get<{ Params: { name: string } }>(
    '/v1/models/:name',
    { schema: { tags: ['models'], params: NAME_PARAMS, response: { 200: MODEL_DETAIL, ...errors } } },
    async (request) => {
      authorize(request, 'metadata');
      const { name } = request.params;
      if (!host.has(name)) throw notFound(`no served model is named ${name}`);
      const champion = host.champion(name);
      return {
        name,
        champion: champion?.version ?? null,
        threshold: champion?.threshold ?? null,
        family: champion?.metadata.family ?? null,
        metrics: champion ? { ...champion.metadata.metrics } : null,
        gate: champion?.metadata.gate
          ? { decision: champion.metadata.gate.decision, reason: champion.metadata.gate.reason, decidedAt: champion.metadata.gate.decidedAt }
          : null,
        versions: await listVersions(ctx.store, name),
        features: champion?.schema ?? [],
      };
    },
  );

  const predictWith = async (served: ServedModel, body: PredictRequest) => {
    const started = performance.now();
    const answer = predictBatch(served, body, ctx.raw, ctx.limits);
    // Ids and counts only: never a value from the request.
    ctx.logger.info('predict', {
      model: served.name,
      version: served.version,
      stays: answer.predictions.length,
      ms: Math.round((performance.now() - started) * 1000) / 1000,
    });
    return answer;
  };

  app.post<{ Params: { name: string }; Body: PredictRequest }>(
    `/v1/models/:name${ID}::predict`,
    { schema: { tags: ['predict'], params: NAME_PARAMS, body: PREDICT_BODY, response: { 200: PREDICT_RESPONSE, ...errors } } },
    async (request) => {
      authorize(request, 'predict');
      const { name } = request.params;
      if (!host.has(name)) throw notFound(`no served model is named ${name}`);
      const served = host.champion(name); // taken once: the whole batch is scored by this version
      if (!served) throw unavailable(`${name} has no champion loaded`);
      return predictWith(served, request.body);
    },
  );

  app.post<{ Params: { name: string; version: string }; Body: PredictRequest }>(
    `/v1/models/:name/versions/:version${ID}::predict`,
    { schema: { tags: ['predict'], params: VERSION_PARAMS, body: PREDICT_BODY, response: { 200: PREDICT_RESPONSE, ...errors } } },
    async (request) => {
      authorize(request, 'predict');
      const { name, version } = request.params;
      const served = await host.version(name, version);
      if (!served) throw notFound(`${name} has no version ${version}`);
      return predictWith(served, request.body);
    },
  );
}
