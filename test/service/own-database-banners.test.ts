/**
 * Rules of portscout's own database for servers the lab cannot run (issue 10),
 * checked on responses their vendors document. Microsoft IIS has no Debian
 * package; Microsoft's documentation of IIS's `removeServerHeader` setting
 * shows the header it sends, `Server: Microsoft-IIS/10.0`. No root, no network.
 */
import { describe, expect, it } from 'vitest';
import { defaultServiceProbes } from '../../src/service/default-probes.js';
import { matchServiceResponse } from '../../src/service/match-response.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

describe("portscout's own database on documented banners", () => {
  it('names Microsoft IIS and its version from "Server: Microsoft-IIS/10.0"', async () => {
    const response = 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nLast-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\nAccept-Ranges: bytes\r\nServer: Microsoft-IIS/10.0\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nContent-Length: 703\r\n\r\n<!DOCTYPE html>';
    const m = await matchServiceResponse(defaultServiceProbes(), 'GetRequest', bytes(response), { protocol: 'tcp' });
    expect(m).toMatchObject({ name: 'http', product: 'Microsoft IIS httpd', version: '10.0', osType: 'Windows', soft: false, probe: 'GetRequest' });
    expect(m?.cpe).toEqual(['cpe:/a:microsoft:internet_information_services:10.0', 'cpe:/o:microsoft:windows']);
  });

  it('and not from a header that only ends in it, nor from the body', async () => {
    const db = defaultServiceProbes();
    const other = await matchServiceResponse(db, 'GetRequest', bytes('HTTP/1.1 200 OK\r\nX-Server: Microsoft-IIS/10.0\r\n\r\n'), { protocol: 'tcp' });
    expect(other?.product).toBeUndefined();
    const body = await matchServiceResponse(db, 'GetRequest', bytes('HTTP/1.1 200 OK\r\nContent-Length: 28\r\n\r\nServer: Microsoft-IIS/10.0\r\n'), { protocol: 'tcp' });
    expect(body?.product).toBeUndefined();
  });
});
