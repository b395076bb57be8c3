/**
 * Service and version detection: the `nmap-service-probes` format, PCRE
 * patterns in JavaScript, and the matcher. Pure: nothing here does I/O but
 * {@link loadServiceProbes}, which reads a file.
 *
 * @module
 */
export { parseServiceProbes, loadServiceProbes, type ParsedServiceProbes } from './probe-file.js';
export { defaultServiceProbes, DEFAULT_SERVICE_PROBES } from './default-probes.js';
export { matchServiceResponse, matchingChain, MAX_MATCHED_BYTES, type ServiceMatch } from './match-response.js';
export { translatePcre, matchesEmpty, type PcreFlags, type TranslatedPattern } from './pcre-pattern.js';
export { fillTemplate, cleanField, type MatchGroups } from './version-template.js';
export { decodeProbeString } from './probe-string.js';
export { inPortRanges, type MatchRule, type PortRanges, type ProbeFileDiagnostic, type ServiceProbe, type ServiceProbeDatabase, type VersionTemplates } from './probe-database.js';
