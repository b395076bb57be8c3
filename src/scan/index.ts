/**
 * The scanners and their events.
 *
 * @module
 */
export * from './events.js';
export type { PortScanOptions, ScanOptions } from './scan-options.js';
export { scan, type Scan } from './scan.js';
export { TECHNIQUES, techniqueNamed, type Technique, type TechniqueName, type ScanRequest } from './techniques.js';
export type { ProbeContext, ProbeKey, ProbeModule, ProbeOutcome, ProbeTarget, ReplyVerdict } from './probe-module.js';
export type { CookieKey } from './probe-cookie.js';
export type { ListenProtocol, RawReply } from '../transport/packet-listener.js';
export { icmpReason } from './reasons.js';
export { STEADY_POLICY, RATE_LIMITED_POLICY, type ProbePolicy } from './retry-policy.js';
export { discoverHosts, type DiscoveryOptions } from './host-discovery.js';
export type { DiscoveryProbes } from './discovery-probe.js';
export { tcpConnectScan, type ConnectScanOptions } from './tcp-connect-scan.js';
export { tcpSynScan, type SynScanOptions } from './tcp-syn-scan.js';
export { tcpFlagScan, type FlagScanOptions } from './tcp-flag-scan.js';
export { udpScan } from './udp-scan.js';
export { TCP_SCAN_FLAGS, replyMatchesProbe, type TcpScanType } from './tcp-probe.js';
export { UDP_PAYLOAD_PORTS, describeUdpPayload, udpPayloadFor } from './udp-payloads.js';
