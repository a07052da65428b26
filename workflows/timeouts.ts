/**
 * Heartbeat timeouts, in one place: the activity proxies use them, and the worker deployments'
 * termination grace (infra/k8s) must exceed the longest plus the worker's shutdown grace.
 */
/** Per-file and per-bucket activities (default; a feature build may set its own, see FeaturesInput.shardHeartbeatSeconds). */
export const SHARD_HEARTBEAT_SECONDS = 60;
/** Model training (default; a run may set its own, see RetrainInput.trainingHeartbeatSeconds). */
export const TRAINING_HEARTBEAT_SECONDS = 120;
