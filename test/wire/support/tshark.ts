/** Runs tshark on a pcap and returns the requested fields of every packet. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const TSHARK = '/usr/bin/tshark';

export function tsharkAvailable(): boolean {
  return existsSync(TSHARK);
}

/**
 * Dissects `file` with checksum validation on and raw sequence numbers.
 * Returns one record per packet: field name -> every occurrence (ICMP
 * errors show inner IP/UDP fields as further occurrences).
 */
export function tsharkFields(file: string, fields: readonly string[]): Record<string, string[]>[] {
  const args = [
    '-r',
    file,
    '-n',
    '-o',
    'ip.check_checksum:TRUE',
    '-o',
    'tcp.check_checksum:TRUE',
    '-o',
    'udp.check_checksum:TRUE',
    '-o',
    'tcp.relative_sequence_numbers:FALSE',
    '-o',
    'tcp.analyze_sequence_numbers:FALSE',
    '-T',
    'fields',
    '-E',
    'separator=/t',
    '-E',
    'occurrence=a',
    '-E',
    'aggregator=|',
    ...fields.flatMap((f) => ['-e', f]),
  ];
  const output = execFileSync(TSHARK, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  return output
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const values = line.split('\t');
      const record: Record<string, string[]> = {};
      fields.forEach((field, i) => {
        const value = values[i] ?? '';
        record[field] = value === '' ? [] : value.split('|');
      });
      return record;
    });
}
