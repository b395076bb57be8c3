/**
 * portscout: a typed network-scanning library.
 *
 * - `wire`: packet builders and dissectors (also the `portscout/wire` entry, which never loads native code).
 * - `targets`: target and port specifications, lazy expansion, order, shards and resume.
 * - `transport`: timing templates, privilege checks, source address selection.
 * - `scan`: the scanners, async iterables of typed events.
 * - `service`: the service probe format, PCRE patterns in JavaScript, the version matcher.
 * - `os`: OS detection, nmap's second-generation probes and fingerprints, matched against a user's `nmap-os-db`.
 * - `output`: formatters of the event streams: nmap XML, normal and grepable output (host by host as the scan runs), JSON Lines (with a JSON Schema in the package).
 *
 * @module portscout
 */
export { ERROR_CODES, PortscoutError, type PortscoutErrorCode } from './errors.js';
export * from './wire/index.js';
export * from './targets/index.js';
export { TIMING_TEMPLATES, resolveTiming, type TimingTemplateName, type TimingValues } from './transport/timing.js';
export { checkRawPermission, hasRawPermission } from './transport/privileges.js';
export { isRawSocketAvailable } from './transport/raw-socket-loader.js';
export { rawIoInUse } from './transport/open-raw-channel.js';
export { pickSourceAddress } from './transport/source-address.js';
export { TokenBucket, type TokenBucketOptions } from './transport/token-bucket.js';
export { RttEstimator } from './transport/rtt-estimator.js';
export * from './scan/index.js';
export * from './service/index.js';
export * from './os/index.js';
export * from './output/index.js';
