/**
 * RFC 5424 messages with RFC 6587 octet-counting framing, written here rather than taken from npm:
 * the maintained clients (syslog-client) send no STRUCTURED-DATA and frame TCP with a trailing LF,
 * which breaks on any newline in MSG; the ones with SD (glossy, syslog-pro) are unmaintained. What is
 * needed is one pure function, checked by unit tests on the escaping rules and by a real rsyslog.
 */

/** RFC 5424 §6.3.3: inside PARAM-VALUE, '"', '\' and ']' MUST be escaped with a backslash. */
export const escapeParamValue = (value: string): string => value.replace(/["\\\]]/g, (c) => `\\${c}`);

/** SD-NAME: 1 to 32 printable US-ASCII characters other than '=', SP, ']' and '"'. */
const SD_NAME = /^[\x21-\x7e]{1,32}$/;
const isSdName = (name: string): boolean => SD_NAME.test(name) && !/[= \]"]/.test(name);

/** HOSTNAME, APP-NAME, PROCID and MSGID are PRINTUSASCII (33..126) of bounded length, or NILVALUE. */
const header = (value: string | undefined, max: number): string => {
  const printable = (value ?? '').replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return printable === '' ? '-' : printable;
};

export interface SdElement { id: string; params: Array<[string, string]> }

export const structuredData = (elements: SdElement[]): string => {
  if (elements.length === 0) return '-';
  return elements.map((element) => {
    for (const name of [element.id, ...element.params.map(([param]) => param)]) {
      if (!isSdName(name)) throw new Error(`'${name}' is not an RFC 5424 SD-NAME`);
    }
    return `[${element.id}${element.params.map(([name, value]) => ` ${name}="${escapeParamValue(value)}"`).join('')}]`;
  }).join('');
};

export interface SyslogMessage {
  /** 0..23; 13 is "log audit". */
  facility: number;
  /** 0 emergency .. 7 debug. */
  severity: number;
  timestamp: Date;
  hostname: string | undefined;
  appName: string;
  msgId: string;
  structuredData: SdElement[];
  /** UTF-8 text; sent after a BOM, as RFC 5424 §6.4 requires for a UTF-8 MSG. */
  msg: string;
}

const BOM = '\ufeff';

/** `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD BOM MSG`, with PROCID left NIL. */
export const formatSyslog = (m: SyslogMessage): string => {
  if (!Number.isInteger(m.facility) || m.facility < 0 || m.facility > 23) throw new Error(`syslog facility ${m.facility} is out of range`);
  if (!Number.isInteger(m.severity) || m.severity < 0 || m.severity > 7) throw new Error(`syslog severity ${m.severity} is out of range`);
  const pri = m.facility * 8 + m.severity;
  return `<${pri}>1 ${m.timestamp.toISOString()} ${header(m.hostname, 255)} ${header(m.appName, 48)} - ${header(m.msgId, 32)}`
    + ` ${structuredData(m.structuredData)} ${BOM}${m.msg}`;
};

/** RFC 6587 §3.4.1 octet counting: the length in bytes of the message, a space, the message. */
export const octetCounted = (message: string): Buffer => {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
};
