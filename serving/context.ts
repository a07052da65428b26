/** What the routes share: the model host, the raw-row featurizer (null without a pseudonym key), limits, the logger. */
import type { ObjectStore } from '../activities/io/object-store.js';
import type { Logger } from '../core/log.js';
import type { ModelHost } from './model-host.js';
import type { ScoringLimits } from './predict.js';
import type { RawStayFeaturizer } from './raw-stays.js';

export interface ServeContext {
  host: ModelHost;
  store: ObjectStore;
  raw: RawStayFeaturizer | null;
  limits: ScoringLimits;
  logger: Logger;
}
