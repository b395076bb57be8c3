/**
 * OS detection: nmap's second-generation probes, fingerprints in nmap's
 * text form, and matching against a database in the `nmap-os-db` format.
 *
 * @module
 */
export { detectOs, type DetectOsOptions } from './detect-os.js';
export type { OsDetectionEvent, OsEvent, OsReason } from './os-event.js';
export { OS_TEST_ORDER, formatOsTests, parseOsTests, wrapOsFingerprint, type OsTest } from './fingerprint.js';
export { loadOsDatabase, parseOsDatabase, type OsClass, type OsDatabase, type OsDatabaseDiagnostic, type OsDatabaseParse, type OsReference } from './os-database.js';
export { OS_GUESS_THRESHOLD, compareOsFingerprint, expressionMatches, matchOsFingerprint, nmapGuesses, type OsMatch } from './os-match.js';
export { computeOsFingerprint, initialTtlGuess, ipIdSequenceClass, type ComputedFingerprint, type OsProbeReplies, type OsProbeRound } from './os-fingerprint.js';
export { OS_ECHO_PROBES, OS_SEQ_PROBES, OS_TCP_PROBES, buildOsEchoProbe, buildOsTcpProbe, buildOsUdpProbe, type OsPacketAddressing, U1_DATA_LENGTH, U1_IP_ID, U1_PATTERN_BYTE, U1_TOTAL_LENGTH, IE_SEQUENCE, type OsProbePort, type OsTcpProbe } from './os-probes.js';
export { notePassiveEvidence, osEvidence, passiveOsHint, type OsEvidence, type OsFamily, type OsHint, type PassiveOsEvidence } from './os-hint.js';
