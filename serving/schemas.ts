/**
 * The route schemas: Fastify validates bodies with them (no type coercion, so a string where a
 * number belongs is a 400, not a silent conversion), serialises answers with them, and
 * @fastify/swagger builds the OpenAPI document from them.
 */
import { PROBLEM_SCHEMA } from './problem.js';

const rawRows = { type: 'array', items: { type: 'object', additionalProperties: true } } as const;

export const RAW_STAY_SCHEMA = {
  type: 'object',
  description:
    "Raw rows in the data contract's shape: the patient, the stay (`encounter_id` names it among `encounters`), the prior year's encounters, their diagnoses and labs. Timestamps are epoch ms or ISO 8601 instants with a zone.",
  required: ['encounter_id', 'patients', 'encounters'],
  additionalProperties: false,
  properties: {
    encounter_id: { type: 'string' },
    as_of: { type: 'string', description: 'YYYY-MM-DD the rows are curated as of (default today, UTC)' },
    patients: rawRows,
    encounters: rawRows,
    diagnoses: rawRows,
    lab_results: rawRows,
  },
} as const;

export const PREDICT_BODY = {
  type: 'object',
  required: ['instances'],
  additionalProperties: false,
  properties: {
    instances: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        description: 'one stay: exactly one of `features` (a record of the names in feature_mapping.json) or `raw`',
        properties: {
          features: { type: 'object', additionalProperties: { type: ['number', 'string', 'null'] } },
          raw: RAW_STAY_SCHEMA,
        },
      },
    },
    contributions: { type: 'boolean', description: 'per-feature contributions in the answer (default true)' },
  },
} as const;

const CONTRIBUTIONS = {
  type: ['object', 'null'],
  required: ['scale', 'base', 'values'],
  properties: {
    scale: { type: 'string', enum: ['log-odds', 'probability'] },
    base: { type: 'number' },
    values: { type: 'object', additionalProperties: { type: 'number' } },
  },
} as const;

export const PREDICT_RESPONSE = {
  type: 'object',
  required: ['model', 'version', 'family', 'threshold', 'predictions'],
  properties: {
    model: { type: 'string' },
    version: { type: 'string' },
    family: { type: 'string' },
    threshold: { type: ['number', 'null'] },
    predictions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['probability', 'flagged', 'contributions'],
        properties: { probability: { type: 'number' }, flagged: { type: ['boolean', 'null'] }, contributions: CONTRIBUTIONS },
      },
    },
  },
} as const;

export const FEATURE_SPEC = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    type: { type: 'string', enum: ['number', 'string'] },
    unit: { type: ['string', 'null'] },
    range: { type: ['object', 'null'], properties: { min: { type: 'number' }, max: { type: 'number' }, minExclusive: { type: 'boolean' } } },
    allowedValues: { type: ['array', 'null'], items: { type: 'string' } },
    nullable: { type: 'boolean' },
  },
} as const;

export const VERSION_SUMMARY = {
  type: 'object',
  properties: {
    version: { type: 'string' },
    family: { type: 'string' },
    created: { type: 'string' },
    rocAuc: { type: 'number' },
    ece: { type: 'number' },
    testRows: { type: 'integer' },
    dataset: { type: 'string' },
    gate: { type: ['string', 'null'] },
    champion: { type: 'boolean' },
  },
} as const;

export const MODEL_DETAIL = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    champion: { type: ['string', 'null'] },
    threshold: { type: ['number', 'null'] },
    family: { type: ['string', 'null'] },
    metrics: { type: ['object', 'null'], additionalProperties: { type: 'number' } },
    gate: { type: ['object', 'null'], additionalProperties: true },
    versions: { type: 'array', items: VERSION_SUMMARY },
    features: { type: 'array', items: FEATURE_SPEC },
  },
} as const;

export const errors = { 400: PROBLEM_SCHEMA, 403: PROBLEM_SCHEMA, 404: PROBLEM_SCHEMA, 503: PROBLEM_SCHEMA } as const;
/** Registry names: no path separators or dot segments reach a store key. */
const ID = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' } as const;
export const NAME_PARAMS = { type: 'object', required: ['name'], properties: { name: ID } } as const;
export const VERSION_PARAMS = { type: 'object', required: ['name', 'version'], properties: { name: ID, version: ID } } as const;
