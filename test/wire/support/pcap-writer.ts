/**
 * A minimal classic pcap writer for tests: link type 101 (LINKTYPE_RAW), so
 * each record starts at its IPv4 or IPv6 header and both can be mixed.
 */

/** LINKTYPE_RAW: raw IPv4/IPv6 packets, version told by the first nibble. */
export const LINKTYPE_RAW = 101;

/** Encodes `packets` as a pcap file (little-endian, microsecond timestamps). */
export function encodePcap(packets: readonly Uint8Array[], linktype = LINKTYPE_RAW): Uint8Array {
  const size = 24 + packets.reduce((n, p) => n + 16 + p.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0xa1b2c3d4, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  view.setInt32(8, 0, true);
  view.setUint32(12, 0, true);
  view.setUint32(16, 65535, true);
  view.setUint32(20, linktype, true);
  let offset = 24;
  packets.forEach((packet, index) => {
    view.setUint32(offset, 1_700_000_000 + index, true);
    view.setUint32(offset + 4, 0, true);
    view.setUint32(offset + 8, packet.length, true);
    view.setUint32(offset + 12, packet.length, true);
    out.set(packet, offset + 16);
    offset += 16 + packet.length;
  });
  return out;
}
