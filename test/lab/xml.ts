/**
 * A small XML reader, just enough for nmap's `-oX` output: elements, attributes
 * and entity references. Text content, comments, processing instructions and
 * the DOCTYPE are skipped.
 *
 * @module
 */

/**
 * One XML element.
 *
 * @example
 * ```ts
 * const root: XmlElement = parseXml('<a/>');
 * ```
 */
export interface XmlElement {
  /** Tag name. */
  readonly name: string;
  /** Attributes, entity references decoded. */
  readonly attrs: Readonly<Record<string, string>>;
  /** Child elements in document order. */
  readonly children: XmlElement[];
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * Decodes `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;` and numeric references.
 *
 * @example
 * ```ts
 * decodeXmlEntities('a &amp; b &#x41;'); // 'a & b A'
 * ```
 */
export function decodeXmlEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(Number.parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(Number.parseInt(ref.slice(1), 10));
    return ENTITIES[ref] ?? whole;
  });
}

const TAG = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/y;
const ATTR = /([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/**
 * Parses an XML document into its root element. Throws an `Error` naming the
 * offset on malformed markup (unbalanced or unterminated tags).
 *
 * @example
 * ```ts
 * const root = parseXml('<a x="1"><b/></a>');
 * root.children[0]?.name; // 'b'
 * ```
 */
export function parseXml(text: string): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let i = 0;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    if (lt < 0) break;
    if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt + 4);
      if (end < 0) throw new Error(`unterminated comment at offset ${lt}`);
      i = end + 3;
      continue;
    }
    if (text.startsWith('<?', lt)) {
      const end = text.indexOf('?>', lt + 2);
      if (end < 0) throw new Error(`unterminated processing instruction at offset ${lt}`);
      i = end + 2;
      continue;
    }
    if (text.startsWith('<![CDATA[', lt)) {
      const end = text.indexOf(']]>', lt);
      if (end < 0) throw new Error(`unterminated CDATA at offset ${lt}`);
      i = end + 3;
      continue;
    }
    if (text.startsWith('<!', lt)) {
      const end = text.indexOf('>', lt);
      if (end < 0) throw new Error(`unterminated declaration at offset ${lt}`);
      i = end + 1;
      continue;
    }
    TAG.lastIndex = lt;
    const m = TAG.exec(text);
    if (m === null) throw new Error(`malformed tag at offset ${lt}: ${JSON.stringify(text.slice(lt, lt + 60))}`);
    i = TAG.lastIndex;
    const [, closing, name = '', attrText = '', selfClosing] = m;
    if (closing === '/') {
      const open = stack.pop();
      if (open?.name !== name) throw new Error(`unexpected </${name}> at offset ${lt}`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText.matchAll(ATTR)) {
      const key = a[1];
      if (key !== undefined) attrs[key] = decodeXmlEntities(a[2] ?? a[3] ?? '');
    }
    const el: XmlElement = { name, attrs, children: [] };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else if (root === undefined) root = el;
    else throw new Error(`second root element <${name}> at offset ${lt}`);
    if (selfClosing !== '/') stack.push(el);
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack[stack.length - 1]?.name ?? ''}> at end of document`);
  if (root === undefined) throw new Error('no element in document');
  return root;
}

/**
 * Child elements of `el` with tag `name`.
 *
 * @example
 * ```ts
 * childrenNamed(root, 'host').length;
 * ```
 */
export function childrenNamed(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}

/**
 * First child element of `el` with tag `name`, if any.
 *
 * @example
 * ```ts
 * childNamed(host, 'status')?.attrs.state; // 'up'
 * ```
 */
export function childNamed(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}
