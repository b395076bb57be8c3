/**
 * Events built from probe outcomes: fields without a value are left out, so
 * events serialise compactly, and bytes become base64 text (events hold only JSON values).
 *
 * @module
 */
import type { HostEvent, PortEvent, ScanMethod } from './events.js';
import type { ProbeOutcome, ProbeTarget } from './probe-module.js';

/** A round-trip time in milliseconds, rounded to the microsecond as events carry it. */
export function roundRtt(rttMs: number): number {
  return Math.round(rttMs * 1000) / 1000;
}

/** An event type with its fields writable, for building an event field by field. */
export type Building<T> = { -readonly [K in keyof T]: T[K] };

/** Builds a `port` event. */
export function portEvent(target: ProbeTarget, outcome: ProbeOutcome, rttMs: number | undefined, method: ScanMethod): PortEvent {
  const event: Building<PortEvent> = {
    type: 'port',
    family: target.family,
    address: target.address,
    protocol: target.protocol === 'udp' ? 'udp' : 'tcp',
    port: target.port,
    state: outcome.state as PortEvent['state'],
    reason: outcome.reason,
    method,
  };
  if (target.hostname !== undefined) event.hostname = target.hostname;
  if (outcome.ttl !== undefined) event.ttl = outcome.ttl;
  if (outcome.replyFrom !== undefined) event.replyFrom = outcome.replyFrom;
  if (rttMs !== undefined) event.rttMs = roundRtt(rttMs);
  if (outcome.window !== undefined) event.window = outcome.window;
  if (outcome.tcpOptions !== undefined) event.tcpOptions = outcome.tcpOptions;
  if (outcome.data !== undefined) event.data = Buffer.from(outcome.data.buffer, outcome.data.byteOffset, outcome.data.byteLength).toString('base64');
  return event;
}

/** Builds a `host` event. */
export function hostEvent(target: ProbeTarget, outcome: ProbeOutcome, rttMs: number | undefined): HostEvent {
  const event: Building<HostEvent> = {
    type: 'host',
    family: target.family,
    address: target.address,
    status: outcome.state === 'up' ? 'up' : 'down',
    reason: outcome.reason,
    method: outcome.method ?? 'icmp-echo',
  };
  if (target.hostname !== undefined) event.hostname = target.hostname;
  if (outcome.ttl !== undefined) event.ttl = outcome.ttl;
  if (outcome.replyFrom !== undefined) event.replyFrom = outcome.replyFrom;
  if (rttMs !== undefined) event.rttMs = roundRtt(rttMs);
  return event;
}
