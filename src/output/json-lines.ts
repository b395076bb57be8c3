/**
 * JSON Lines output: one event per line, each line a complete JSON document
 * (`JSON.parse` of any one line gives the event), written as the events
 * arrive, so `jq` and log pipelines see open ports while the scan runs.
 *
 * The field names are the events' own (see {@link JsonLinesEvent}); the
 * package ships the same shape as a JSON Schema (draft 2020-12),
 * `schema/portscout-events.schema.json`, exported as
 * `portscout/schema/portscout-events.schema.json` (its `$id` is
 * {@link JSON_LINES_SCHEMA_ID}). {@link parseJsonLines} reads the lines back.
 *
 * @module
 */
import type { Writable } from 'node:stream';
import { PortscoutError } from '../errors.js';
import type { DetectionEvent } from '../service/index.js';
import type { OsEvent } from '../os/index.js';

/**
 * The shape of one JSON Lines line: a scan event ({@link ScanEvent}: `start`,
 * `host`, `port`, `warning`, `progress`, `done`), a `service` event from
 * service detection or an `os` event from OS detection, with the same field
 * names and values. Events already
 * hold only JSON values (bytes such as a UDP reply's `data` are base64
 * text), so `JSON.parse(line)` deep-equals the event that was written.
 *
 * Fields are stable: a field keeps its name and meaning across minor
 * versions; new optional fields may appear (validate with the schema of the
 * version that wrote the lines). A stream with no `done` line was interrupted.
 *
 * @example
 * ```ts
 * const event = JSON.parse(line) as JsonLinesEvent;
 * if (event.type === 'port' && event.state === 'open') console.log(event.address, event.port);
 * ```
 */
export type JsonLinesEvent = DetectionEvent | OsEvent;

/**
 * Where text output goes: a `Writable` (`process.stdout`, a file stream, a
 * socket), whose back-pressure is respected, or a function called with each
 * chunk, in order (a promise it returns is awaited before the next chunk).
 * Every formatter of `src/output` takes one.
 *
 * @example
 * ```ts
 * const lines: string[] = [];
 * const sink: TextSink = (chunk) => lines.push(chunk);
 * await writeJsonLines(tcpConnectScan({ targets: '127.0.0.1', ports: '22', skipDiscovery: true }), sink);
 * ```
 */
export type TextSink = Writable | ((chunk: string) => unknown);

/**
 * The `$id` of the JSON Schema of the lines, `schema/portscout-events.schema.json`
 * in the package. Its version part changes only when a field changes name,
 * type or meaning.
 *
 * @example
 * ```ts
 * import { createRequire } from 'node:module';
 * const schema = createRequire(import.meta.url)('portscout/schema/portscout-events.schema.json');
 * console.log(schema.$id === JSON_LINES_SCHEMA_ID); // true
 * ```
 */
export const JSON_LINES_SCHEMA_ID = 'urn:portscout:schema:events:1';

/**
 * Every event `type` a JSON Lines line can have, as {@link JsonLinesEvent}
 * defines them.
 *
 * @example
 * ```ts
 * const known = new Set<string>(JSON_LINES_EVENT_TYPES);
 * ```
 */
export const JSON_LINES_EVENT_TYPES: readonly JsonLinesEvent['type'][] = Object.keys({
  start: true,
  host: true,
  port: true,
  warning: true,
  progress: true,
  done: true,
  service: true,
  os: true,
} satisfies Record<JsonLinesEvent['type'], true>) as JsonLinesEvent['type'][];

/**
 * Options of {@link writeJsonLines}.
 *
 * @example
 * ```ts
 * const options: WriteJsonLinesOptions = { types: ['port', 'service'], end: true };
 * await writeJsonLines(detectServices({ targets: '127.0.0.1', ports: '80' }), createWriteStream('services.jsonl'), options);
 * ```
 */
export interface WriteJsonLinesOptions {
  /** Write only events of these types (e.g. `['port', 'service']`); default: every event. */
  readonly types?: readonly string[];
  /** End a `Writable` sink once the events end, and wait for it to finish (default false: `process.stdout` stays open). */
  readonly end?: boolean;
}

/**
 * Options of {@link parseJsonLines}.
 *
 * @example
 * ```ts
 * // Lines of a scan killed mid-write, possibly by a newer portscout: keep what can be read.
 * const options: ParseJsonLinesOptions = { unknownTypes: 'skip', ignoreIncompleteLastLine: true };
 * for await (const event of parseJsonLines(createReadStream('scan.jsonl'), options)) console.log(event.type);
 * ```
 */
export interface ParseJsonLinesOptions {
  /** What to do with a line whose `type` is not a known event type: throw `ERR_INVALID_EVENT` (default) or skip it. */
  readonly unknownTypes?: 'error' | 'skip';
  /**
   * Skip a last line that does not end in `\n` and is not JSON, as a process
   * killed while writing leaves it (default false: it throws `ERR_INVALID_EVENT`).
   */
  readonly ignoreIncompleteLastLine?: boolean;
  /** Characters one line may have at most before the input is refused (default 16 MiB). */
  readonly maxLineLength?: number;
}

const DEFAULT_MAX_LINE_LENGTH = 16 * 1024 * 1024;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

/**
 * JSON's replacer for what events should never hold but values from other
 * code may: bytes become base64 (as events carry them), a bigint a number
 * when it is a safe integer and its decimal text otherwise, a non-finite
 * number is left out (JSON has no Infinity). `undefined` is left out of
 * objects, as JSON.stringify does.
 */
function replacer(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  if (typeof raw === 'bigint') return raw >= BigInt(Number.MIN_SAFE_INTEGER) && raw <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(raw) : raw.toString();
  if (raw instanceof Uint8Array) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
  if (typeof value === 'number' && !Number.isFinite(value)) return undefined;
  return value;
}

/**
 * One event as one JSON Lines line: compact JSON, `\n`-terminated, with no
 * other line break in it (JSON escapes `\n` and `\r` in strings; U+2028 and
 * U+2029 are escaped too). Throws `ERR_INVALID_EVENT` for a value that is not
 * an object with a string `type`.
 *
 * @example
 * ```ts
 * toJsonLine({ type: 'warning', code: 'NO_ROUTE', message: 'No route to 1 target' });
 * // '{"type":"warning","code":"NO_ROUTE","message":"No route to 1 target"}\n'
 * ```
 */
export function toJsonLine(event: JsonLinesEvent): string {
  if (typeof event !== 'object' || event === null || Array.isArray(event) || typeof (event as { type?: unknown }).type !== 'string') {
    throw new PortscoutError('ERR_INVALID_EVENT', `An event must be an object with a string type; got ${describe(event)}.`);
  }
  return `${JSON.stringify(event, replacer).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')}\n`;
}

function isWritable(sink: unknown): sink is Writable {
  return typeof sink === 'object' && sink !== null && typeof (sink as Writable).write === 'function' && typeof (sink as Writable).once === 'function';
}

function isIterable(value: unknown): value is AsyncIterable<unknown> | Iterable<unknown> {
  return (typeof value === 'object' || typeof value === 'string') && value !== null && (Symbol.asyncIterator in Object(value) || Symbol.iterator in Object(value));
}

/** Writes to a `Writable`, waiting for `drain` when it asks to, and failing with the first error it reports. */
class StreamWriter {
  private error: unknown;
  private last: Promise<void> = Promise.resolve();
  private readonly onError = (error: unknown): void => {
    this.error ??= error;
  };

  constructor(private readonly stream: Writable) {
    stream.on('error', this.onError);
  }

  private check(): void {
    if (this.error !== undefined) throw this.error;
    if (this.stream.destroyed || this.stream.writableEnded) throw new PortscoutError('ERR_OUTPUT_CLOSED', 'The output stream was closed while events were still being written.');
  }

  async write(chunk: string): Promise<void> {
    this.check();
    let ok = true;
    this.last = new Promise((resolve) => {
      ok = this.stream.write(chunk, (error) => {
        if (error) this.onError(error);
        resolve();
      });
    });
    if (ok) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.stream.off('drain', done);
        this.stream.off('close', done);
        this.stream.off('error', done);
        resolve();
      };
      this.stream.on('drain', done);
      this.stream.on('close', done);
      this.stream.on('error', done);
    });
    this.check();
  }

  /** Waits until the last chunk was handed on (and for `finish` when ending), then reports any error. */
  async finish(end: boolean): Promise<void> {
    try {
      await this.last;
      if (end && !this.stream.writableEnded && !this.stream.destroyed) {
        await new Promise<void>((resolve) => this.stream.end(() => resolve()));
      }
      if (this.error !== undefined) throw this.error;
    } finally {
      this.stream.off('error', this.onError);
    }
  }

  /** Ends the stream when asked to after a failure that is already being reported. */
  release(end: boolean): void {
    if (end && !this.stream.writableEnded && !this.stream.destroyed) this.stream.end();
    this.stream.off('error', this.onError);
  }
}

/**
 * Writes events as JSON Lines (see {@link toJsonLine}), each line as soon as
 * its event arrives. A `Writable` sink's back-pressure pauses the reading of
 * the events (and so the scan, once its queue fills). Resolves with the
 * number of lines written, once the last one was handed on.
 *
 * If the events fail (an aborted scan), every line written is complete and
 * the promise rejects with that error; if the sink fails, the events are
 * closed (the scan stops and releases its sockets) and the promise rejects
 * with the sink's error (`ERR_OUTPUT_CLOSED` when it was ended or destroyed
 * without one). Options and the sink are checked at the call
 * (`ERR_INVALID_OPTION`).
 *
 * @example
 * ```ts
 * const events = detectServices({ targets: '127.0.0.1', ports: '22,80', skipDiscovery: true });
 * await writeJsonLines(events, process.stdout);
 * // npx tsx scan.ts | jq -c 'select(.type == "port" and .state == "open") | .port'
 * ```
 */
export function writeJsonLines(
  events: AsyncIterable<JsonLinesEvent> | Iterable<JsonLinesEvent>,
  sink: TextSink,
  options: WriteJsonLinesOptions = {},
): Promise<number> {
  if (typeof events === 'string' || !isIterable(events)) throw new PortscoutError('ERR_INVALID_OPTION', `writeJsonLines needs events: an async iterable such as a scan; got ${describe(events)}.`);
  if (typeof sink !== 'function' && !isWritable(sink)) {
    throw new PortscoutError('ERR_INVALID_OPTION', `writeJsonLines needs a sink: a Writable stream or a function of each chunk; got ${describe(sink)}.`);
  }
  if (typeof options !== 'object' || options === null) throw new PortscoutError('ERR_INVALID_OPTION', `writeJsonLines options must be an object; got ${describe(options)}.`);
  const { types, end = false } = options;
  if (types !== undefined && (!Array.isArray(types) || types.some((t) => typeof t !== 'string'))) {
    throw new PortscoutError('ERR_INVALID_OPTION', `Option types must be an array of event type names (${JSON_LINES_EVENT_TYPES.join(', ')}); got ${describe(types)}.`);
  }
  if (typeof end !== 'boolean') throw new PortscoutError('ERR_INVALID_OPTION', `Option end must be a boolean; got ${describe(end)}.`);
  const wanted = types === undefined ? undefined : new Set(types);
  return writeLines(events, sink, wanted, end);
}

async function writeLines(events: AsyncIterable<JsonLinesEvent> | Iterable<JsonLinesEvent>, sink: TextSink, wanted: Set<string> | undefined, end: boolean): Promise<number> {
  const writer = typeof sink === 'function' ? undefined : new StreamWriter(sink);
  const write = writer ? (chunk: string) => writer.write(chunk) : async (chunk: string) => {
    await (sink as (chunk: string) => unknown)(chunk);
  };
  let lines = 0;
  try {
    for await (const event of events) {
      if (wanted !== undefined && !wanted.has((event as { type?: unknown }).type as string)) continue;
      await write(toJsonLine(event));
      lines += 1;
    }
  } catch (error) {
    writer?.release(end);
    throw error;
  }
  await writer?.finish(end);
  return lines;
}

interface RawLine {
  readonly text: string;
  readonly number: number;
  /** Whether it ended in `\n` (the last line of the input may not). */
  readonly terminated: boolean;
}

async function* rawLines(input: string | AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>, maxLineLength: number): AsyncGenerator<RawLine> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let pending = '';
  let number = 0;
  const chunks = typeof input === 'string' ? [input] : input;
  for await (const chunk of chunks) {
    if (typeof chunk === 'string') pending += chunk;
    else if (chunk instanceof Uint8Array) {
      try {
        pending += decoder.decode(chunk, { stream: true });
      } catch (cause) {
        throw new PortscoutError('ERR_INVALID_EVENT', `JSON Lines input is not UTF-8 (after line ${number}).`, { cause });
      }
    } else throw new PortscoutError('ERR_INVALID_EVENT', `JSON Lines input must be text or bytes; a chunk is ${describe(chunk)}.`);
    let start = 0;
    for (let newline = pending.indexOf('\n'); newline !== -1; newline = pending.indexOf('\n', start)) {
      number += 1;
      if (newline - start > maxLineLength) throw new PortscoutError('ERR_INVALID_EVENT', `JSON Lines line ${number} is longer than ${maxLineLength} characters.`);
      yield { text: pending.slice(start, newline), number, terminated: true };
      start = newline + 1;
    }
    pending = pending.slice(start);
    if (pending.length > maxLineLength) throw new PortscoutError('ERR_INVALID_EVENT', `JSON Lines line ${number + 1} is longer than ${maxLineLength} characters.`);
  }
  try {
    pending += decoder.decode();
  } catch (cause) {
    throw new PortscoutError('ERR_INVALID_EVENT', `JSON Lines input ends in the middle of a UTF-8 character (line ${number + 1}).`, { cause });
  }
  if (pending.length > 0) yield { text: pending, number: number + 1, terminated: false };
}

async function* events(input: string | AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>, options: Required<ParseJsonLinesOptions>): AsyncGenerator<JsonLinesEvent, void, undefined> {
  const known = new Set<string>(JSON_LINES_EVENT_TYPES);
  for await (const line of rawLines(input, options.maxLineLength)) {
    const text = line.text.endsWith('\r') ? line.text.slice(0, -1) : line.text;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      if (!line.terminated && options.ignoreIncompleteLastLine) return;
      const what = line.terminated ? '' : ' (the last line, with no newline: a write cut short?)';
      throw new PortscoutError('ERR_INVALID_EVENT', `JSON Lines line ${line.number}${what} is not JSON: ${(cause as Error).message}.`, { cause });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof (value as { type?: unknown }).type !== 'string') {
      throw new PortscoutError('ERR_INVALID_EVENT', `JSON Lines line ${line.number} is not an event (an object with a string type): it is ${describe(value)}.`);
    }
    const type = (value as { type: string }).type;
    if (!known.has(type)) {
      if (options.unknownTypes === 'skip') continue;
      throw new PortscoutError('ERR_INVALID_EVENT', `JSON Lines line ${line.number} has the unknown event type ${JSON.stringify(type)} (known: ${JSON_LINES_EVENT_TYPES.join(', ')}).`);
    }
    yield value as JsonLinesEvent;
  }
}

/**
 * Reads JSON Lines back into events: from a string, or from chunks of text
 * or bytes (a `Readable` such as `process.stdin` or a file stream, which may
 * split lines and UTF-8 characters anywhere). Blank lines are skipped and a
 * `\r` before the `\n` is dropped. It checks that each line is one JSON
 * object of a known `type` (validate fields with the schema); anything else
 * throws `ERR_INVALID_EVENT` naming the line. Options are checked at the
 * call (`ERR_INVALID_OPTION`).
 *
 * @example
 * ```ts
 * import { createReadStream } from 'node:fs';
 * for await (const event of parseJsonLines(createReadStream('scan.jsonl'))) {
 *   if (event.type === 'service') console.log(event.port, event.name, event.product ?? '');
 * }
 * ```
 */
export function parseJsonLines(
  input: string | AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  options: ParseJsonLinesOptions = {},
): AsyncGenerator<JsonLinesEvent, void, undefined> {
  if (!isIterable(input)) throw new PortscoutError('ERR_INVALID_OPTION', `parseJsonLines needs text, or an iterable of text or byte chunks (a Readable); got ${describe(input)}.`);
  if (typeof options !== 'object' || options === null) throw new PortscoutError('ERR_INVALID_OPTION', `parseJsonLines options must be an object; got ${describe(options)}.`);
  const { unknownTypes = 'error', ignoreIncompleteLastLine = false, maxLineLength = DEFAULT_MAX_LINE_LENGTH } = options;
  if (unknownTypes !== 'error' && unknownTypes !== 'skip') throw new PortscoutError('ERR_INVALID_OPTION', `Option unknownTypes must be 'error' or 'skip'; got ${describe(unknownTypes)}.`);
  if (typeof ignoreIncompleteLastLine !== 'boolean') throw new PortscoutError('ERR_INVALID_OPTION', `Option ignoreIncompleteLastLine must be a boolean; got ${describe(ignoreIncompleteLastLine)}.`);
  if (typeof maxLineLength !== 'number' || !Number.isInteger(maxLineLength) || maxLineLength < 1) {
    throw new PortscoutError('ERR_INVALID_OPTION', `Option maxLineLength must be a positive integer (characters); got ${describe(maxLineLength)}.`);
  }
  return events(input, { unknownTypes, ignoreIncompleteLastLine, maxLineLength });
}
