/**
 * The Open Inference Protocol (KServe v2 REST): health, server and model metadata, model readiness
 * and `infer`. An infer request carries one input tensor per model feature (shape [n]; FP64 for
 * numeric features, BYTES for categorical ones; a feature left out is missing for every row) and
 * gets the `probability` tensor (FP64, [n]) back; errors carry the protocol's `error` string beside
 * the problem document's fields.
 */
import type { FastifyInstance } from 'fastify';
import { authorize } from './authorize.js';
import type { ServeContext } from './context.js';
import type { FeatureRecord } from './feature-schema.js';
import { badInput, notFound, ProblemError, unavailable } from './problem.js';
import { predictBatch } from './predict.js';
import { errors, NAME_PARAMS, VERSION_PARAMS } from './schemas.js';
import type { ServedModel } from './served-model.js';

interface InferTensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}
interface InferRequest {
  id?: string;
  inputs: InferTensor[];
}

const TENSOR = {
  type: 'object',
  required: ['name', 'shape', 'datatype', 'data'],
  properties: { name: { type: 'string' }, shape: { type: 'array', items: { type: 'integer' } }, datatype: { type: 'string' }, data: { type: 'array' } },
} as const;
const INFER_BODY = {
  type: 'object',
  required: ['inputs'],
  properties: { id: { type: 'string' }, inputs: { type: 'array', items: TENSOR }, parameters: { type: 'object' }, outputs: { type: 'array' } },
} as const;
const INFER_RESPONSE = {
  type: 'object',
  properties: {
    model_name: { type: 'string' },
    model_version: { type: 'string' },
    id: { type: 'string' },
    outputs: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          shape: { type: 'array', items: { type: 'integer' } },
          datatype: { type: 'string' },
          data: { type: 'array', items: { type: 'number' } },
        },
      },
    },
  },
} as const;
const META_TENSOR = {
  type: 'object',
  properties: { name: { type: 'string' }, datatype: { type: 'string' }, shape: { type: 'array', items: { type: 'integer' } } },
} as const;
const MODEL_METADATA = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    versions: { type: 'array', items: { type: 'string' } },
    platform: { type: 'string' },
    inputs: { type: 'array', items: META_TENSOR },
    outputs: { type: 'array', items: META_TENSOR },
  },
} as const;

/** Tensors (one per feature) -> feature records, checking shapes and datatypes. */
function tensorsToRecords(served: ServedModel, inputs: InferTensor[]): FeatureRecord[] {
  const specs = new Map(served.schema.map((s) => [s.name, s]));
  let n: number | null = null;
  inputs.forEach((t, k) => {
    const at = `/inputs/${k}`;
    const spec = specs.get(t.name);
    if (!spec) throw badInput(`${at}/name`, 'unknown-feature', 'the model has no such input');
    if (t.shape.length !== 1 && !(t.shape.length === 2 && t.shape[1] === 1)) throw badInput(`${at}/shape`, 'wrong-type', 'must be [n] or [n, 1]');
    const rows = t.shape[0]!;
    if (t.data.length !== rows) throw badInput(`${at}/data`, 'wrong-type', 'holds a number of values other than the shape says');
    if (n !== null && rows !== n) throw badInput(`${at}/shape`, 'wrong-type', 'every input must have the same number of rows');
    n = rows;
    const expected = spec.type === 'number' ? 'FP64' : 'BYTES';
    const allowed = spec.type === 'number' ? ['FP64', 'FP32', 'INT32', 'INT64'] : ['BYTES'];
    if (!allowed.includes(t.datatype)) throw badInput(`${at}/datatype`, 'wrong-type', `must be ${expected}`);
  });
  const records: FeatureRecord[] = Array.from({ length: n ?? 0 }, () => ({}));
  for (const t of inputs) t.data.forEach((v, i) => (records[i]![t.name] = v));
  return records;
}

/** A problem found in the records made from the tensors, pointed at the tensor value it came from. */
function inTensorTerms<T>(inputs: InferTensor[], score: () => T): T {
  try {
    return score();
  } catch (err) {
    const m = err instanceof ProblemError && err.field ? /^\/instances\/(\d+)\/features\/(.+)$/.exec(err.field) : null;
    if (!m || !(err instanceof ProblemError)) throw err;
    const k = inputs.findIndex((t) => t.name === m[2]!.replace(/~1/g, '/').replace(/~0/g, '~'));
    const field = `/inputs/${k}/data/${m[1]}`;
    throw new ProblemError(err.status, err.slug, err.title, field + err.message.slice(err.field!.length), field, err.reason);
  }
}

export function registerV2(app: FastifyInstance, ctx: ServeContext): void {
  const { host } = ctx;
  const health = { type: 'object', properties: { live: { type: 'boolean' }, ready: { type: 'boolean' } } } as const;
  app.get('/v2/health/live', { schema: { tags: ['v2'], response: { 200: health } } }, async () => ({ live: true }));
  app.get('/v2/health/ready', { schema: { tags: ['v2'], response: { 200: health, 503: errors[503] } } }, async () => {
    if (!host.ready()) throw unavailable('the champion of every served model is not loaded yet');
    return { ready: true };
  });
  app.get('/v2', { schema: { tags: ['v2'] } }, async () => ({ name: 'carepipe', version: '1', extensions: [] }));

  const metadata = (served: ServedModel) => ({
    name: served.name,
    versions: [served.version],
    platform: `carepipe-${served.metadata.family}`,
    inputs: served.schema.map((s) => ({ name: s.name, datatype: s.type === 'number' ? 'FP64' : 'BYTES', shape: [-1] })),
    outputs: [{ name: 'probability', datatype: 'FP64', shape: [-1] }],
  });
  const champion = (name: string) => {
    if (!host.has(name)) throw notFound(`no served model is named ${name}`);
    const served = host.champion(name);
    if (!served) throw unavailable(`${name} has no champion loaded`);
    return served;
  };
  const pinned = async (name: string, version: string) => {
    const served = await host.version(name, version);
    if (!served) throw notFound(`${name} has no version ${version}`);
    return served;
  };
  const infer = (served: ServedModel, body: InferRequest) => {
    const records = tensorsToRecords(served, body.inputs);
    const answer = inTensorTerms(body.inputs, () =>
      predictBatch(served, { instances: records.map((features) => ({ features })), contributions: false }, null, ctx.limits),
    );
    ctx.logger.info('infer', { model: served.name, version: served.version, stays: records.length });
    return {
      model_name: served.name,
      model_version: served.version,
      ...(body.id !== undefined ? { id: body.id } : {}),
      outputs: [{ name: 'probability', shape: [records.length], datatype: 'FP64', data: answer.predictions.map((p) => p.probability) }],
    };
  };

  app.get<{ Params: { name: string } }>(
    '/v2/models/:name',
    { schema: { tags: ['v2'], params: NAME_PARAMS, response: { 200: MODEL_METADATA, ...errors } } },
    async (req) => {
      authorize(req, 'metadata');
      return metadata(champion(req.params.name));
    },
  );
  app.get<{ Params: { name: string } }>('/v2/models/:name/ready', { schema: { tags: ['v2'], params: NAME_PARAMS } }, async (req, reply) => {
    authorize(req, 'metadata');
    const ready = host.champion(req.params.name) !== undefined;
    return reply.code(ready ? 200 : 503).send({ name: req.params.name, ready });
  });
  app.post<{ Params: { name: string }; Body: InferRequest }>(
    '/v2/models/:name/infer',
    { schema: { tags: ['v2'], params: NAME_PARAMS, body: INFER_BODY, response: { 200: INFER_RESPONSE, ...errors } } },
    async (req) => {
      authorize(req, 'predict');
      return infer(champion(req.params.name), req.body);
    },
  );
  app.get<{ Params: { name: string; version: string } }>(
    '/v2/models/:name/versions/:version',
    { schema: { tags: ['v2'], params: VERSION_PARAMS, response: { 200: MODEL_METADATA, ...errors } } },
    async (req) => {
      authorize(req, 'metadata');
      return metadata(await pinned(req.params.name, req.params.version));
    },
  );
  app.post<{ Params: { name: string; version: string }; Body: InferRequest }>(
    '/v2/models/:name/versions/:version/infer',
    { schema: { tags: ['v2'], params: VERSION_PARAMS, body: INFER_BODY, response: { 200: INFER_RESPONSE, ...errors } } },
    async (req) => {
      authorize(req, 'predict');
      return infer(await pinned(req.params.name, req.params.version), req.body);
    },
  );
}
