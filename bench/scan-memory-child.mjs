// bench/scan's memory row: one scan of the built package (dist/) in plain Node (no tsx loader, whose
// thread and transforms would count against the scan), with a consumer that only counts port events
// by state. Prints one JSON line: { baselineRssKb, maxRssKb, counts, error? }.
//   node bench/scan-memory-child.mjs '{"targets":"198.18.1.10","ports":"1-65535","skipDiscovery":true}'
const options = JSON.parse(process.argv[2] ?? '{}');
const { tcpSynScan } = await import(new URL('../dist/index.js', import.meta.url).href);
// The baseline: Node and portscout loaded, no scan yet.
const baselineRssKb = process.resourceUsage().maxRSS;
const counts = {};
let error;
try {
  for await (const event of tcpSynScan(options)) if (event.type === 'port') counts[event.state] = (counts[event.state] ?? 0) + 1;
} catch (e) {
  error = { code: e?.code, message: e?.message };
}
process.stdout.write(`${JSON.stringify({ baselineRssKb, maxRssKb: process.resourceUsage().maxRSS, counts, ...(error ? { error } : {}) })}\n`);
