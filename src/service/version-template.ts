/**
 * Version templates of match rules: `$1`..`$9`, `$P(n)`, `$SUBST(n,"a","b")`
 * and `$I(n,">")` / `$I(n,"<")`, filled from a match's groups, and the
 * field clean-up nmap applies.
 *
 * @module
 */

/** The groups of a match, by PCRE group number (index 0 is the whole match); undefined for a group that did not take part. */
export type MatchGroups = readonly (string | undefined)[];

/** Characters CPE 2.2 reserves in a component; a substituted value percent-encodes them. */
const CPE_RESERVED = new Set(":/?#[]@!$&'()*+,;=%<>\" ".split(''));

/** Whether a latin1 character is printable ASCII (nmap's isprint in the C locale). */
function printable(code: number): boolean {
  return code >= 0x20 && code < 0x7f;
}

/** A group's bytes as an unsigned integer, big-endian (`>`) or little-endian (`<`); undefined past 8 bytes. */
function unsignedOf(text: string, order: string): string | undefined {
  if (text.length > 8) return undefined;
  let value = 0n;
  for (let i = 0; i < text.length; i++) {
    const byte = BigInt(text.charCodeAt(order === '<' ? text.length - 1 - i : i) & 0xff);
    value = (value << 8n) | byte;
  }
  return value.toString();
}

/** A value substituted into a CPE: lowercased, reserved characters percent-encoded. */
function cpeComponent(text: string): string {
  let out = '';
  for (const ch of text.toLowerCase()) out += CPE_RESERVED.has(ch) ? `%${ch.charCodeAt(0).toString(16).padStart(2, '0')}` : ch;
  return out;
}

const TEMPLATE = /\$(?:(\d)|P\((\d)\)|SUBST\((\d),"((?:[^"\\]|\\.)*)","((?:[^"\\]|\\.)*)"\)|I\((\d),"([<>])"\))/g;

/**
 * Fills a version template from a match's groups. A template that uses a
 * group that did not take part, or a `$I` of more than 8 bytes, gives an
 * empty value for that part. With `cpe`, substituted values are made
 * CPE components (lowercased, reserved characters percent-encoded).
 *
 * @example
 * ```ts
 * fillTemplate('$1 (protocol $2)', [undefined, '8.4p1', '2.0']); // '8.4p1 (protocol 2.0)'
 * fillTemplate('$SUBST(1,"_",".")', [undefined, '2_3_4']);       // '2.3.4'
 * fillTemplate('$I(1,">")', [undefined, '\x01\x00']);             // '256'
 * ```
 */
export function fillTemplate(template: string, groups: MatchGroups, options: { readonly cpe?: boolean } = {}): string {
  const value = (n: string | undefined): string => groups[Number(n)] ?? '';
  const wrap = (text: string): string => (options.cpe ? cpeComponent(text) : text);
  return template.replace(TEMPLATE, (_all, plain: string | undefined, p: string | undefined, sn: string | undefined, from: string | undefined, to: string | undefined, iN: string | undefined, order: string | undefined) => {
    if (plain !== undefined) return wrap(value(plain));
    if (p !== undefined) {
      let out = '';
      for (const ch of value(p)) if (printable(ch.charCodeAt(0))) out += ch;
      return wrap(out);
    }
    if (sn !== undefined) {
      const a = (from ?? '').replace(/\\(.)/g, '$1');
      const b = (to ?? '').replace(/\\(.)/g, '$1');
      return wrap(a === '' ? value(sn) : value(sn).split(a).join(b));
    }
    if (iN !== undefined) return wrap(unsignedOf(value(iN), order ?? '>') ?? '');
    return '';
  });
}

/**
 * A version field as nmap reports it: trailing whitespace stripped; an empty
 * field is absent (undefined).
 *
 * @example
 * ```ts
 * cleanField('OpenSSH \r\n'); // 'OpenSSH'
 * cleanField('  ');           // undefined
 * ```
 */
export function cleanField(text: string): string | undefined {
  const cleaned = text.replace(/\s+$/, '');
  return cleaned === '' ? undefined : cleaned;
}
