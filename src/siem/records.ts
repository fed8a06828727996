import { hostname } from 'node:os';
import { exportLine } from '../audit/export.js';
import { OCSF_IAM_CATEGORY, OCSF_SCHEMA_VERSION, OCSF_SEVERITY_NAMES, ocsfMappingOf, ocsfNames, type OcsfSeverity } from '../domain/ocsf.js';
import { formatSyslog } from './syslog.js';

/** One audit event as the stream reads it: `canonical` is the hashed text, verbatim. */
export interface StreamedEvent { seq: number; hash: string; prevHash: string; canonical: string }

/** The canonical event's fields (audit/chain.ts canonicalEvent), as far as the records use them. */
interface TenureEvent {
  at: string;
  action: string;
  actor: { id: string | null; channel: string; tokenId?: string };
  subject: { type: string; id: string };
  identityId: string | null;
}

/**
 * The SD-ID of Tenure's structured data. 32473 is the enterprise number RFC 5612 reserves for
 * documentation: a deployment that owns an IANA enterprise number may replace it (TENURE_SIEM_SD_ID).
 */
export const DEFAULT_SD_ID = 'tenure@32473';

/** "log audit" (RFC 5424 §6.2.1): receivers commonly route it apart from daemon noise. */
const FACILITY_LOG_AUDIT = 13;
const SYSLOG_SEVERITY: Record<OcsfSeverity, number> = { 1: 6, 2: 5, 3: 5, 4: 4 };

export interface RecordSettings { productVersion: string; sdId: string; hostname?: string }

const parse = (event: StreamedEvent): TenureEvent => JSON.parse(event.canonical) as TenureEvent;

/**
 * The OCSF object of one event. `metadata.uid` and `metadata.sequence` are the seq and
 * `unmapped.tenure` carries the hash and previous hash, so a SIEM can drop the repeats at-least-once
 * delivery may bring; `raw_data` is the canonical text verbatim, so SHA-256(prev_hash ‖ raw_data) = hash.
 */
export const ocsfRecord = (event: StreamedEvent, settings: RecordSettings): Record<string, unknown> => {
  const tenure = parse(event);
  const mapping = ocsfMappingOf(tenure.action);
  const names = ocsfNames(mapping);
  const iam = mapping.classUid !== 0;
  return {
    class_uid: mapping.classUid, class_name: names.className,
    category_uid: iam ? OCSF_IAM_CATEGORY.uid : 0, category_name: iam ? OCSF_IAM_CATEGORY.name : 'Uncategorized',
    activity_id: mapping.activityId, activity_name: names.activityName,
    type_uid: names.typeUid, type_name: names.typeName,
    time: Date.parse(tenure.at),
    severity_id: mapping.severityId, severity: OCSF_SEVERITY_NAMES[mapping.severityId],
    // An audit event records a change that happened: there are no failed attempts in the log.
    status_id: 1, status: 'Success',
    message: `${tenure.action} ${tenure.subject.type} ${tenure.subject.id}`,
    actor: {
      app_name: 'Tenure',
      ...(tenure.actor.id ? { user: { uid: tenure.actor.id } } : {}),
      ...(tenure.actor.tokenId ? { session: { uid: tenure.actor.tokenId } } : {}),
    },
    ...(tenure.identityId ? { user: { uid: tenure.identityId } } : {}),
    ...(mapping.classUid === 3004 ? { entity: { uid: tenure.subject.id, type: tenure.subject.type } } : {}),
    metadata: {
      version: OCSF_SCHEMA_VERSION,
      product: { name: 'Tenure', vendor_name: 'Tenure', version: settings.productVersion },
      uid: String(event.seq), sequence: event.seq, log_name: 'audit', event_code: tenure.action,
    },
    raw_data: event.canonical,
    unmapped: { tenure: { seq: event.seq, hash: event.hash, prev_hash: event.prevHash, event: tenure } },
  };
};

/** One JSON line per event for the HTTP target. */
export const jsonLine = (event: StreamedEvent, settings: RecordSettings): string => `${JSON.stringify(ocsfRecord(event, settings))}\n`;

/**
 * One RFC 5424 message per event: seq, hash and action as structured data, so a receiver can route
 * and deduplicate without parsing MSG; MSG is the event's line of `GET /v1/audit/export`
 * (seq, hash, prevHash, canonical event), which verifies on its own. TIMESTAMP is when the event
 * happened, not when it was sent: a resent batch keeps its times.
 */
export const syslogRecord = (event: StreamedEvent, settings: RecordSettings): string => {
  const tenure = parse(event);
  return formatSyslog({
    facility: FACILITY_LOG_AUDIT,
    severity: SYSLOG_SEVERITY[ocsfMappingOf(tenure.action).severityId],
    timestamp: new Date(tenure.at),
    hostname: settings.hostname ?? hostname(),
    appName: 'tenure',
    msgId: tenure.action,
    structuredData: [{ id: settings.sdId, params: [['seq', String(event.seq)], ['hash', event.hash], ['action', tenure.action]] }],
    msg: exportLine(event).trimEnd(),
  });
};
