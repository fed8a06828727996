/** Distinguished names (RFC 4514): parsed and compared by meaning, not text. */

/** One RDN: its attribute types (lower case) and values, escapes undone. */
export type Rdn = [type: string, value: string][];

/** Undoes RFC 4514 escapes in one pass: runs of `\XX` are UTF-8 bytes, `\c` is `c`. */
const unescapeValue = (raw: string): string =>
  raw.replace(/((?:\\[0-9a-fA-F]{2})+)|\\([^])/g, (_match, hex?: string, char?: string) =>
    hex ? Buffer.from(hex.replace(/\\/g, ''), 'hex').toString('utf8') : char ?? '');

/**
 * Parses an RFC 4514 DN string. Needed because directories hand DNs back in their own spelling
 * (OpenLDAP writes `\2C` where we sent `\,`), so member values are compared by meaning, not text.
 */
export const parseDn = (dn: string): Rdn[] => {
  const rdns: Rdn[] = [];
  let rdn: Rdn = [];
  for (let i = 0; ;) {
    const equals = dn.indexOf('=', i);
    const type = equals < 0 ? '' : dn.slice(i, equals).trim().toLowerCase();
    if (!/^[a-z][a-z0-9-]*$|^\d+(\.\d+)*$/.test(type)) throw new Error(`${JSON.stringify(dn)} is not a DN`);
    let start = equals + 1;
    while (dn[start] === ' ') start += 1;
    let end = start; // one past the last escaped or non-space character: unescaped trailing spaces do not count
    for (i = start; i < dn.length && !',;+'.includes(dn[i]!); i += 1) {
      if (dn[i] === '\\') { i += 1; end = i + 1; } else if (dn[i] !== ' ') end = i + 1;
    }
    rdn.push([type, unescapeValue(dn.slice(start, Math.min(end, dn.length)))]);
    if (dn[i] !== '+') { rdns.push(rdn); rdn = []; }
    if (i >= dn.length) return rdns;
    i += 1;
  }
};

/** A comparable form: uid, cn, ou and dc all match case-insensitively with spaces folded. */
export const dnKey = (rdns: Rdn[]): string => rdns
  .map((rdn) => rdn.map(([type, value]) => `${type}=${value.toLowerCase().replace(/\s+/g, ' ').trim()}`).sort().join('+'))
  .join(',');

