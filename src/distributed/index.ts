/**
 * `portscout/distributed`: scans that outgrow one machine, on BullMQ (Redis).
 *
 * - {@link enqueueScan} splits one scan into shard jobs (a BullMQ flow) and returns its id;
 * - {@link createScanWorker} runs shard jobs, records their events in a Redis Stream per scan,
 *   saves each shard's resume cursor, and resumes a retried job from it;
 * - {@link readScanResults} reads the merged events, duplicates dropped, as one scan's stream;
 * - {@link scanStatus} says how far the shards are; {@link resumeScan} re-queues failed shards.
 *
 * `bullmq` (and the Redis client it uses, `ioredis` by default) is an optional peer
 * dependency: only this entry point loads it; `import 'portscout'` never does.
 *
 * @module portscout/distributed
 */
export { enqueueScan, resumeScan, type EnqueueOptions } from './enqueue-scan.js';
export { createScanWorker, ScanWorker, type ParentResult, type ScanWorkerOptions } from './scan-worker.js';
export { readScanResults, scanStatus, type DistributedScanStatus, type ReadResultsOptions, type ShardStatus } from './scan-results.js';
export {
  DEFAULT_KEY_PREFIX,
  PARENT_JOB_NAME,
  SHARD_JOB_NAME,
  checkDistributedScan,
  type DistributedScan,
  type DistributedScanOptions,
  type ShardJobData,
} from './scan-spec.js';
export { eventId, type ShardProgress, type ShardResult } from './shard-progress.js';
