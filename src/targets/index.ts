/**
 * The targets layer: target and port specifications, lazy expansion, scan
 * order (sequential or seeded random), shards and resume cursors.
 *
 * @module
 */
export {
  parseTargetSpec,
  isHostname,
  TARGET_SYNTAX_HELP,
  type TargetSpec,
  type AddressTargetSpec,
  type CidrTargetSpec,
  type OctetRangeTargetSpec,
  type DashRangeTargetSpec,
  type HostnameTargetSpec,
} from './target-spec.js';
export { TargetSet, TargetSetBuilder, countTargets, parseTargetList, MAX_TARGET_RANGES } from './target-set.js';
export type { Ipv4Ranges } from './ipv4-ranges.js';
export type { Ipv6Ranges } from './ipv6-ranges.js';
export { parsePortSpec, normalizePortSet, formatPortSet, PORT_SYNTAX_HELP, type PortSet, type PortSpecOptions, type DefaultPortProtocol } from './port-spec.js';
export { ServiceTable, loadNmapServices, parseNmapServices, type ServiceEntry, type PortProtocol } from './service-table.js';
export { builtinServices, serviceName, topPorts } from './builtin-services.js';
export { IndexPermutation } from './index-permutation.js';
export { HostIndex } from './host-index.js';
export { validateScanCursor, type ScanCursor } from './scan-cursor.js';
export { ScanPlan, ScanPair, PlannedHost, type ScanOrder, type ShardSpec, type ScanPlanInit } from './scan-plan.js';
export { checkPlanOptions, planScan, type CheckedPlanOptions, type PlanScanOptions, type TargetInput } from './plan-scan.js';
export { readTargetFile, targetTokens } from './target-file.js';
export { systemResolver, type HostResolver, type ResolveFamily } from './host-resolver.js';
export { formatIpv4, parseIpv4 } from './ipv4-text.js';
export { formatIpv6, parseIpv6 } from './ipv6-text.js';
export { blocklistFor, parseBlocklist } from './blocklist.js';
export { ALWAYS_BLOCKED, BLOCKLIST_THRESHOLD, DEFAULT_BLOCKLIST } from './default-blocklist.js';
