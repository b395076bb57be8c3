/**
 * Service and version detection: the `nmap-service-probes` format, PCRE
 * patterns in JavaScript, the matcher (pure), and the runner that talks to services
 * ({@link detectServices}, {@link identifyService}, {@link exchange}).
 *
 * @module
 */
export { parseServiceProbes, loadServiceProbes, type ParsedServiceProbes } from './probe-file.js';
export { serviceFingerprint, SERVICE_FINGERPRINT_VERSION, type FingerprintResponse, type ServiceFingerprintInput } from './service-fingerprint.js';
export { defaultServiceProbes, DEFAULT_SERVICE_PROBES } from './default-probes.js';
export {
  matchServiceResponse,
  matchResponse,
  prepareMatching,
  matchingChain,
  MAX_MATCHED_BYTES,
  DEFAULT_MATCH_BUDGET_MS,
  type MatchOutcome,
  type MatchResponseOptions,
  type ServiceMatch,
  type VersionFields,
} from './match-response.js';
export { GuardedMatcher, GUARDED_IDLE_MS, type GuardedMatchOptions, type GuardedMatchOutcome, type GuardedResult } from './guarded-match.js';
export { MatcherPool, MATCHER_POOL_SIZE } from './matcher-pool.js';
export { patternRisk, analyzePatternRisk, adversarialSubjects, type PatternRiskAnalysis } from './pattern-risk.js';
export { translatePcre, matchesEmpty, type PcreFlags, type TranslatedPattern } from './pcre-pattern.js';
export { fillTemplate, cleanField, type MatchGroups } from './version-template.js';
export { decodeProbeString } from './probe-string.js';
export { inPortRanges, type MatchRule, type PortRanges, type ProbeFileDiagnostic, type ServiceProbe, type ServiceProbeDatabase, type VersionTemplates } from './probe-database.js';
export { detectServices, MAX_BUFFERED_EVENTS, type DetectServicesOptions } from './detect-services.js';
export { ConnectionSlots } from './connection-slots.js';
export { identifyService, DEFAULT_PROBE_WAIT_MS, type IdentifyOptions, type ServiceIdentification, type ServiceTarget } from './identify-service.js';
export { probesForPort, probeCanFind, isExcluded, DEFAULT_INTENSITY, type ProbePlanOptions } from './probe-plan.js';
export { exchange, type ExchangeOptions, type ExchangeResult, type ExchangeTarget } from './probe-exchange.js';
export type { DetectionEvent, ServiceEvent } from './service-event.js';
