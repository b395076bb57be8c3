/**
 * The JSON Schema of JSON Lines (schema/portscout-events.schema.json):
 * - every line of real loopback scans and service detection validates
 *   against it (ajv, draft 2020-12, strict);
 * - it agrees with the TypeScript type `JsonLinesEvent`, read with the
 *   compiler: the same events, fields, optional fields and literal values;
 * - `jq` reads the lines of a loopback scan and selects its open ports.
 *
 * Traffic goes only to servers this file starts on 127.0.0.1 and ::1.
 */
import { spawnSync } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  JSON_LINES_EVENT_TYPES,
  JSON_LINES_SCHEMA_ID,
  detectOs,
  detectServices,
  discoverHosts,
  hasRawPermission,
  scan,
  tcpConnectScan,
  tcpSynScan,
  udpScan,
  writeJsonLines,
  type HostResolver,
  type JsonLinesEvent,
} from '../../src/index.js';

const root = resolve(import.meta.dirname, '../..');
const schemaPath = join(root, 'schema/portscout-events.schema.json');
type Schema = Record<string, unknown>;
const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as Schema;

function listen(server: Server | ReturnType<typeof createHttpServer>, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('no port'));
      else resolve(address.port);
    });
  });
}

function ipv6Loopback(): Promise<boolean> {
  const probe = createServer();
  return listen(probe, '::1').then(
    () => new Promise<boolean>((resolve) => probe.close(() => resolve(true))),
    () => false,
  );
}

/** Loopback servers: HTTP, an SMTP banner, one that closes at once (tcpwrapped), a closed port, a UDP echo; HTTP on ::1 too when it exists. */
interface Lab {
  http: number;
  smtp: number;
  wrapped: number;
  closed: number;
  udp: number;
  http6?: number;
  close(): Promise<void>;
}

async function startLab(): Promise<Lab> {
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const track = (server: Server | ReturnType<typeof createHttpServer>): void => {
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
  };
  // A web server no rule knows (Node's own http server has a rule of its own): http by softmatch, with a fingerprint.
  const http = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => socket.end('HTTP/1.0 200 OK\r\nServer: demo/1.0\r\nContent-Length: 6\r\n\r\nhello\n'));
  });
  const smtp = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.write('220 mail.example ESMTP Postfix\r\n');
  });
  const wrapped = createServer((socket) => socket.destroy());
  const ports = {
    http: await listen(http, '127.0.0.1'),
    smtp: await listen(smtp, '127.0.0.1'),
    wrapped: await listen(wrapped, '127.0.0.1'),
  };
  servers.push(http, smtp, wrapped);
  for (const server of servers) track(server);
  const spare = createServer();
  const closed = await listen(spare, '127.0.0.1');
  await new Promise<void>((resolve) => spare.close(() => resolve()));
  const udp: UdpSocket = createSocket('udp4');
  udp.on('message', (_message, from) => udp.send('pong', from.port, from.address));
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', () => resolve()));
  let http6: number | undefined;
  if (await ipv6Loopback()) {
    const server = createHttpServer((_request, response) => response.end('six\n'));
    http6 = await listen(server, '::1');
    servers.push(server as unknown as Server);
    track(server);
  }
  return {
    ...ports,
    closed,
    udp: udp.address().port,
    ...(http6 === undefined ? {} : { http6 }),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      await new Promise<void>((resolve) => udp.close(() => resolve()));
    },
  };
}

/** Resolves `demo.test` to 127.0.0.1 and nothing else: no DNS traffic. */
const demoResolver: HostResolver = async (name) => {
  if (name === 'demo.test') return ['127.0.0.1'];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
};

const raw = hasRawPermission(4);
const FAST = { timingOverrides: { initialRttTimeoutMs: 200, minRttTimeoutMs: 50, maxRttTimeoutMs: 400, maxRetries: 1 } } as const;

/** The JSON Lines of every scan kind this machine can run on the lab, line by line. */
async function labLines(lab: Lab): Promise<string[]> {
  const lines: string[] = [];
  const sink = (chunk: string): void => {
    lines.push(chunk);
  };
  const tcpPorts = `${lab.http},${lab.smtp},${lab.wrapped},${lab.closed}`;
  // Service detection over a connect scan with discovery (connect pings), a name, a name that does not resolve, and progress.
  await writeJsonLines(
    detectServices({ targets: ['demo.test', 'nowhere.test'], resolve: demoResolver, ports: tcpPorts, progressInterval: 1, order: { random: true, seed: 'schema' } }),
    sink,
  );
  // A connect scan resumed from a cursor (start.resumedFrom, done.cursor).
  const first = tcpConnectScan({ targets: '127.0.0.1', ports: tcpPorts, skipDiscovery: true });
  for await (const event of first) if (event.type === 'port') break;
  const cursor = first.cursor();
  if (cursor) await writeJsonLines(tcpConnectScan({ targets: '127.0.0.1', ports: tcpPorts, skipDiscovery: true, resume: cursor }), sink);
  if (lab.http6 !== undefined) await writeJsonLines(detectServices({ targets: '::1', ports: String(lab.http6), skipDiscovery: true }), sink);
  // OS detection's passive hints over a connect scan: an os event with nothing sent.
  await writeJsonLines(detectOs({ from: tcpConnectScan({ targets: '127.0.0.1', ports: tcpPorts, skipDiscovery: true }), passive: true }), sink);
  if (raw) {
    // Raw scans: ICMP discovery (ttl), a SYN scan (ttl, window), a UDP scan with a reply (data).
    await writeJsonLines(discoverHosts({ targets: lab.http6 === undefined ? '127.0.0.1' : ['127.0.0.1', '::1'] }), sink);
    await writeJsonLines(detectServices({ from: tcpSynScan({ targets: '127.0.0.1', ports: tcpPorts, skipDiscovery: true, ...FAST }) }), sink);
    await writeJsonLines(udpScan({ targets: '127.0.0.1', ports: String(lab.udp), skipDiscovery: true, ...FAST }), sink);
    await writeJsonLines(scan({ technique: 'ack', targets: '127.0.0.1', ports: String(lab.closed), skipDiscovery: true, ...FAST }), sink);
    // OS detection's probes on loopback (no database: the fingerprint, the tests, the hint from the SYN/ACK's options).
    await writeJsonLines(detectOs({ from: tcpSynScan({ targets: '127.0.0.1', ports: tcpPorts, skipDiscovery: true, tcpOptions: true, ...FAST }), ...FAST }), sink);
  }
  return lines;
}

describe('the JSON Schema of JSON Lines', () => {
  let lab: Lab;
  let lines: string[];
  beforeAll(async () => {
    lab = await startLab();
    lines = await labLines(lab);
  }, 120_000);
  afterAll(async () => {
    await lab?.close();
  });

  it('is a strict draft 2020-12 schema with the package id, closed objects and a description per event', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toBe(JSON_LINES_SCHEMA_ID);
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    expect(() => ajv.compile(schema)).not.toThrow();
    const objects: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (typeof node !== 'object' || node === null) return;
      const record = node as Schema;
      if (record.type === 'object' && record.additionalProperties !== false) objects.push(path);
      for (const [key, value] of Object.entries(record)) walk(value, `${path}/${key}`);
    };
    walk(schema, '#');
    expect(objects, 'objects that allow unknown fields').toEqual([]);
    for (const ref of schema.oneOf as { $ref: string }[]) {
      const def = resolveRef(ref.$ref);
      expect(typeof def.description, ref.$ref).toBe('string');
    }
  });

  it('ships in the package: listed in files, exported as portscout/schema/portscout-events.schema.json', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; files: string[]; exports: Record<string, unknown> };
    expect(pkg.exports['./schema/portscout-events.schema.json']).toBe('./schema/portscout-events.schema.json');
    // The package resolves its own name (self-reference through "exports"), as a consumer's require does.
    expect(createRequire(import.meta.url).resolve(`${pkg.name}/schema/portscout-events.schema.json`)).toBe(schemaPath);
    const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
    expect(pack.status, pack.stderr).toBe(0);
    const files = (JSON.parse(pack.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    expect(files).toContain('schema/portscout-events.schema.json');
  });

  it('validates every line of real loopback scans and service detection', () => {
    const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);
    const types = new Set<string>();
    const fields = new Set<string>();
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      expect(line.endsWith('\n') && !line.slice(0, -1).includes('\n'), line).toBe(true);
      const event = JSON.parse(line) as JsonLinesEvent;
      const valid = validate(event);
      expect(valid ? [] : validate.errors?.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`), line).toEqual([]);
      types.add(event.type);
      for (const key of Object.keys(event)) fields.add(`${event.type}.${key}`);
    }
    expect([...types].sort()).toEqual([...JSON_LINES_EVENT_TYPES].sort());
    const expected = ['start.seed', 'start.resumedFrom', 'port.hostname', 'host.rttMs', 'warning.target', 'progress.cursor', 'done.cursor', 'service.product', 'service.rule', 'service.fingerprint'];
    if (raw) expected.push('host.ttl', 'port.ttl', 'port.data', 'port.window', 'port.tcpOptions', 'os.fingerprint', 'os.tests', 'os.hint', 'os.distance');
    for (const field of expected) expect(fields, field).toContain(field);
    const services = lines.map((l) => JSON.parse(l) as JsonLinesEvent).filter((e) => e.type === 'service');
    expect(services.find((s) => s.port === lab.smtp)).toMatchObject({ name: 'smtp', product: 'Postfix smtpd' });
    expect(services.find((s) => s.port === lab.wrapped)).toMatchObject({ name: 'tcpwrapped' });
  });

  it('rejects lines that break it: a wrong state, a missing field, an unknown field', () => {
    const validate = new Ajv2020({ strict: true }).compile(schema);
    const port = { type: 'port', family: 4, address: '127.0.0.1', protocol: 'tcp', port: 80, state: 'open', reason: 'syn-ack', method: 'syn' };
    expect(validate(port)).toBe(true);
    expect(validate({ ...port, state: 'opened' })).toBe(false);
    expect(validate({ ...port, port: 70000 })).toBe(false);
    const { reason: _reason, ...noReason } = port;
    expect(validate(noReason)).toBe(false);
    expect(validate({ ...port, colour: 'blue' })).toBe(false);
    expect(validate({ ...port, data: 'not base64!' })).toBe(false);
    expect(validate({ type: 'traceroute' })).toBe(false);
    expect(validate({ type: 'os' })).toBe(false);
  });
});

// ---- the schema against the TypeScript type, read with the compiler ----

/** A value's shape, as the TS type or the schema describes it. */
type Shape =
  | { readonly kind: 'string' | 'number' | 'boolean' }
  | { readonly kind: 'enum'; readonly values: readonly (string | number)[] }
  | { readonly kind: 'array'; readonly items: Shape }
  | { readonly kind: 'tuple'; readonly items: readonly Shape[] }
  | { readonly kind: 'object'; readonly properties: Readonly<Record<string, { shape: Shape; optional: boolean }>> }
  | { readonly kind: 'union'; readonly members: readonly Shape[] };

function resolveRef(ref: string, from: Schema = schema): Schema {
  if (!ref.startsWith('#/')) throw new Error(`external $ref ${ref}`);
  let node: unknown = from;
  for (const part of ref.slice(2).split('/')) node = (node as Schema)[part];
  if (typeof node !== 'object' || node === null) throw new Error(`dangling $ref ${ref}`);
  return node as Schema;
}

function schemaShape(node: Schema, root: Schema): Shape {
  if (typeof node.$ref === 'string') return schemaShape(resolveRef(node.$ref, root), root);
  if ('const' in node) return { kind: 'enum', values: [node.const as string | number] };
  if (Array.isArray(node.enum)) return { kind: 'enum', values: node.enum as (string | number)[] };
  if (Array.isArray(node.oneOf)) return { kind: 'union', members: (node.oneOf as Schema[]).map((member) => schemaShape(member, root)) };
  switch (node.type) {
    case 'string':
      return { kind: 'string' };
    case 'number':
    case 'integer':
      return { kind: 'number' };
    case 'boolean':
      return { kind: 'boolean' };
    case 'array':
      return Array.isArray(node.prefixItems)
        ? { kind: 'tuple', items: (node.prefixItems as Schema[]).map((item) => schemaShape(item, root)) }
        : { kind: 'array', items: schemaShape(node.items as Schema, root) };
    case 'object': {
      const required = new Set((node.required as string[] | undefined) ?? []);
      const properties = Object.entries((node.properties as Record<string, Schema> | undefined) ?? {}).map(([name, value]) => [name, { shape: schemaShape(value, root), optional: !required.has(name) }]);
      for (const name of required) if (!(node.properties as Schema | undefined)?.[name]) properties.push([name, { shape: { kind: 'string' }, optional: false }]);
      return { kind: 'object', properties: Object.fromEntries(properties) };
    }
    default:
      throw new Error(`schema node without a type: ${JSON.stringify(node).slice(0, 80)}`);
  }
}

/** The shape of `JsonLinesEvent`, from the compiler's view of src/output/json-lines.ts. */
function typeScriptShape(): Shape {
  const file = join(root, 'src/output/json-lines.ts');
  const program = ts.createProgram([file], {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'],
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file)!;
  const alias = source.statements.find((s): s is ts.TypeAliasDeclaration => ts.isTypeAliasDeclaration(s) && s.name.text === 'JsonLinesEvent');
  if (!alias) throw new Error('JsonLinesEvent is not declared in src/output/json-lines.ts');

  const shapeOf = (input: ts.Type, path: string): Shape => {
    const type = checker.getNonNullableType(input);
    if (type.flags & ts.TypeFlags.Boolean) return { kind: 'boolean' };
    if (type.flags & ts.TypeFlags.String) return { kind: 'string' };
    if (type.flags & ts.TypeFlags.Number) return { kind: 'number' };
    if (type.isStringLiteral() || type.isNumberLiteral()) return { kind: 'enum', values: [type.value] };
    if (type.isUnion()) {
      const members = type.types.map((member) => shapeOf(member, path));
      if (members.every((m) => m.kind === 'enum')) return { kind: 'enum', values: members.flatMap((m) => (m as { values: readonly (string | number)[] }).values) };
      return { kind: 'union', members };
    }
    if (checker.isTupleType(type)) return { kind: 'tuple', items: checker.getTypeArguments(type as ts.TypeReference).map((item, i) => shapeOf(item, `${path}[${i}]`)) };
    if (checker.isArrayType(type)) return { kind: 'array', items: shapeOf(checker.getTypeArguments(type as ts.TypeReference)[0]!, `${path}[]`) };
    if (type.flags & ts.TypeFlags.Object) {
      const properties: Record<string, { shape: Shape; optional: boolean }> = {};
      for (const property of checker.getPropertiesOfType(type)) {
        properties[property.name] = { shape: shapeOf(checker.getTypeOfSymbol(property), `${path}.${property.name}`), optional: (property.flags & ts.SymbolFlags.Optional) !== 0 };
      }
      return { kind: 'object', properties };
    }
    throw new Error(`${path}: a type the schema cannot describe (${checker.typeToString(type)})`);
  };
  return shapeOf(checker.getTypeAtLocation(alias.name), 'JsonLinesEvent');
}

/** Where two shapes differ, as `path: what` lines. */
function differences(ts: Shape, json: Shape, path: string): string[] {
  if (ts.kind === 'union' && json.kind === 'union') {
    const tag = (shape: Shape): string => {
      const type = shape.kind === 'object' ? shape.properties.type?.shape : undefined;
      return type?.kind === 'enum' ? String(type.values[0]) : '?';
    };
    const tsMembers = new Map(ts.members.map((m) => [tag(m), m]));
    const jsonMembers = new Map(json.members.map((m) => [tag(m), m]));
    const out: string[] = [];
    for (const [name, member] of tsMembers) {
      const other = jsonMembers.get(name);
      if (!other) out.push(`${path}: event ${name} is not in the schema`);
      else out.push(...differences(member, other, `${path}<${name}>`));
    }
    for (const name of jsonMembers.keys()) if (!tsMembers.has(name)) out.push(`${path}: the schema's event ${name} is not in the TS type`);
    return out;
  }
  if (ts.kind !== json.kind) return [`${path}: TS has ${ts.kind}, the schema ${json.kind}`];
  switch (ts.kind) {
    case 'enum': {
      const a = [...ts.values].map(String).sort();
      const b = [...(json as { values: readonly (string | number)[] }).values].map(String).sort();
      return a.join('|') === b.join('|') ? [] : [`${path}: TS allows ${a.join('|')}, the schema ${b.join('|')}`];
    }
    case 'array':
      return differences(ts.items, (json as { items: Shape }).items, `${path}[]`);
    case 'tuple': {
      const other = (json as { items: readonly Shape[] }).items;
      if (other.length !== ts.items.length) return [`${path}: TS tuple of ${ts.items.length}, the schema's of ${other.length}`];
      return ts.items.flatMap((item, i) => differences(item, other[i]!, `${path}[${i}]`));
    }
    case 'object': {
      const other = (json as { properties: Record<string, { shape: Shape; optional: boolean }> }).properties;
      const out: string[] = [];
      for (const [name, field] of Object.entries(ts.properties)) {
        const theirs = other[name];
        if (!theirs) out.push(`${path}.${name}: not in the schema`);
        else {
          if (theirs.optional !== field.optional) out.push(`${path}.${name}: ${field.optional ? 'optional' : 'required'} in TS, ${theirs.optional ? 'optional' : 'required'} in the schema`);
          out.push(...differences(field.shape, theirs.shape, `${path}.${name}`));
        }
      }
      for (const name of Object.keys(other)) if (!(name in ts.properties)) out.push(`${path}.${name}: in the schema, not in the TS type`);
      return out;
    }
    default:
      return [];
  }
}

describe('the schema and the TypeScript type JsonLinesEvent', () => {
  const tsShape = typeScriptShape();

  it('describe the same events, fields, optional fields and values', () => {
    expect(differences(tsShape, schemaShape(schema, schema), 'line')).toEqual([]);
  });

  it('the comparison finds a field, a value or an optional mark the schema got wrong', () => {
    const broken = structuredClone(schema) as { $defs: Record<string, Schema & { properties: Record<string, Schema>; required: string[] }> };
    delete broken.$defs.portEvent!.properties.window;
    (broken.$defs.reason as unknown as { enum: string[] }).enum.pop();
    broken.$defs.service!.required = broken.$defs.service!.required.filter((name) => name !== 'soft');
    broken.$defs.warning!.properties.extra = { type: 'string' };
    const found = differences(tsShape, schemaShape(broken as unknown as Schema, broken as unknown as Schema), 'line');
    expect(found).toContain('line<port>.window: not in the schema');
    expect(found.some((d) => d.startsWith('line<port>.reason: TS allows') && d.includes('send-error'))).toBe(true);
    expect(found).toContain('line<service>.soft: required in TS, optional in the schema');
    expect(found).toContain('line<warning>.extra: in the schema, not in the TS type');
  });
}, 60_000);

describe('JSON Lines through jq', () => {
  const jq = spawnSync('jq', ['--version'], { encoding: 'utf8' }).status === 0;
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab();
  });
  afterAll(async () => {
    await lab?.close();
  });

  // CI installs jq (.ci/run); elsewhere the test runs where jq is installed.
  it.skipIf(!jq && !process.env.CI)("selects a loopback scan's open ports, and its services, with jq", async () => {
    let text = '';
    const ports = `${lab.http},${lab.smtp},${lab.closed}`;
    await writeJsonLines(detectServices({ targets: '127.0.0.1', ports, skipDiscovery: true }), (chunk) => {
      text += chunk;
    });
    const open = spawnSync('jq', ['-c', 'select(.type == "port" and .state == "open") | [.address, .port]'], { input: text, encoding: 'utf8' });
    expect(open.status, open.stderr).toBe(0);
    const rows = open.stdout.trim().split('\n').map((line) => JSON.parse(line) as [string, number]);
    expect(rows.sort((a, b) => a[1] - b[1])).toEqual([['127.0.0.1', lab.http], ['127.0.0.1', lab.smtp]].sort((a, b) => (a[1] as number) - (b[1] as number)));
    const services = spawnSync('jq', ['-r', 'select(.type == "service") | "\\(.port) \\(.name)"'], { input: text, encoding: 'utf8' });
    expect(services.status, services.stderr).toBe(0);
    expect(services.stdout.trim().split('\n').sort()).toEqual([`${lab.http} http`, `${lab.smtp} smtp`].sort());
    // Every line on its own is a document jq reads (no line depends on another).
    for (const line of text.trimEnd().split('\n')) {
      const one = spawnSync('jq', ['-e', 'has("type")'], { input: line, encoding: 'utf8' });
      expect(one.status, line).toBe(0);
    }
  });
});
