import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeParamValue, formatSyslog, octetCounted, structuredData, type SyslogMessage } from './syslog.js';

const message = (overrides: Partial<SyslogMessage> = {}): SyslogMessage => ({
  facility: 13, severity: 6, timestamp: new Date('2030-01-01T09:00:00.123Z'), hostname: 'host-1', appName: 'tenure',
  msgId: 'grant.created', structuredData: [{ id: 'tenure@32473', params: [['seq', '7']] }], msg: '{"a":1}', ...overrides,
});

describe('RFC 5424 formatting', () => {
  it('escapes the three characters RFC 5424 requires in an SD-PARAM value: double quote, backslash and closing bracket', () => {
    assert.equal(escapeParamValue('a"b\\c]d'), 'a\\"b\\\\c\\]d');
    assert.equal(escapeParamValue('[plain = text]'), '[plain = text\\]');
  });

  it('writes structured data as [id name="value" ...] with every value escaped', () => {
    assert.equal(structuredData([{ id: 'tenure@32473', params: [['seq', '1'], ['action', 'x"]\\']] }]), '[tenure@32473 seq="1" action="x\\"\\]\\\\"]');
    assert.equal(structuredData([]), '-');
  });

  it('refuses an SD-ID or parameter name that is not an SD-NAME', () => {
    assert.throws(() => structuredData([{ id: 'bad id', params: [] }]), /SD-NAME/);
    assert.throws(() => structuredData([{ id: 'ok@1', params: [['a=b', 'v']] }]), /SD-NAME/);
    assert.throws(() => structuredData([{ id: 'x'.repeat(33), params: [] }]), /SD-NAME/);
  });

  it('puts PRI, version, timestamp, hostname, app name, NIL procid, msgid, structured data and a BOM before the message', () => {
    assert.equal(formatSyslog(message()), '<110>1 2030-01-01T09:00:00.123Z host-1 tenure - grant.created [tenure@32473 seq="7"] \ufeff{"a":1}');
  });

  it('keeps header fields printable US-ASCII: spaces and non-ASCII are dropped, and an empty field is NIL', () => {
    assert.match(formatSyslog(message({ hostname: 'my host é' })), /^<110>1 \S+ myhost tenure /);
    assert.match(formatSyslog(message({ hostname: '' })), /^<110>1 \S+ - tenure /);
  });

  it('refuses a facility or severity out of range', () => {
    assert.throws(() => formatSyslog(message({ facility: 24 })), /facility/);
    assert.throws(() => formatSyslog(message({ severity: 8 })), /severity/);
  });

  it('frames a message with its length in bytes, not characters (RFC 6587 octet counting)', () => {
    assert.equal(octetCounted('é').toString('utf8'), '2 é');
    assert.equal(octetCounted('ab\ncd').toString('utf8'), '5 ab\ncd');
  });
});
