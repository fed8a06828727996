import { eq, inArray } from 'drizzle-orm';
import type { ErrorCode } from '../../../domain/errors.js';
import { TenureError } from '../../../domain/errors.js';
import { partiesOfIdentity, partiesOfRequest, partyAmongDeciders } from '../../../domain/parties.js';
import type { Executor } from '../../../store/database.js';
import { grants, identities } from '../../../store/schema.js';
import { provisioningJobs } from '../../../store/schema-provisioning.js';
import type { Work } from '../../../work/context.js';

/** Every party to each of these identities: itself, its creator and, for a service account, its owner. */
export const partiesOfIdentities = async (exec: Executor, ids: readonly (string | null | undefined)[]): Promise<string[]> => {
  const wanted = [...new Set(ids.filter((id): id is string => typeof id === 'string'))];
  if (wanted.length === 0) return [];
  const rows = await exec.select({ id: identities.id, kind: identities.kind, createdBy: identities.createdBy, ownerId: identities.ownerId })
    .from(identities).where(inArray(identities.id, wanted));
  return [...new Set([...wanted, ...rows.flatMap(partiesOfIdentity)])];
};

/** The parties of a stored request, read fresh: a creator or owner recorded since filing counts too. */
export const partiesOfStoredRequest = async (
  exec: Executor, request: { requesterId: string; beneficiaryId: string; requesterIssuerId: string | null },
): Promise<string[]> => {
  const rows = await exec.select({ id: identities.id, kind: identities.kind, createdBy: identities.createdBy, ownerId: identities.ownerId })
    .from(identities).where(inArray(identities.id, [request.requesterId, request.beneficiaryId]));
  const byId = new Map(rows.map((r) => [r.id, r]));
  const stub = (id: string) => byId.get(id) ?? { id, kind: 'unknown', createdBy: null, ownerId: null };
  return partiesOfRequest({ requester: stub(request.requesterId), beneficiary: stub(request.beneficiaryId), requesterIssuerId: request.requesterIssuerId });
};

/**
 * Refuses the decision when the actor, or whoever minted the credential it acts with, is one of the
 * parties: four eyes must be two parties, and a token minted by a party is that party's hand.
 */
export const refuseParties = (work: Work, parties: readonly string[], code: ErrorCode, message: string, field?: string): void => {
  if (!work.actor.id) return;
  const party = partyAmongDeciders({ id: work.actor.id, issuedBy: work.actor.issuedBy }, parties);
  if (!party) return;
  const through = party === work.actor.id ? '' : ' (through a credential minted by a party)';
  throw new TenureError(code, `${message}${through}`, field === undefined ? {} : { field });
};

/** The identities a finding is about: its identity, the holder of its grant, the subject of its job. */
const findingSubjects = async (exec: Executor, finding: { identityId: string | null; grantId: string | null; jobId: string | null }) => {
  const ids: (string | null)[] = [finding.identityId];
  if (finding.grantId) {
    const [grant] = await exec.select({ identityId: grants.identityId }).from(grants).where(eq(grants.id, finding.grantId));
    ids.push(grant?.identityId ?? null);
  }
  if (finding.jobId) {
    const [job] = await exec.select({ identityId: provisioningJobs.identityId }).from(provisioningJobs).where(eq(provisioningJobs.id, finding.jobId));
    ids.push(job?.identityId ?? null);
  }
  return ids;
};

/**
 * Nobody accepts, resolves or closes a finding about themselves, their own grant or credential, or
 * an identity they created or own: the person a finding is about is the last one to say it is fine.
 */
export const refuseOwnFinding = async (
  work: Work, finding: { identityId: string | null; grantId: string | null; jobId: string | null }, what: string,
): Promise<void> => {
  const parties = await partiesOfIdentities(work.tx, await findingSubjects(work.tx, finding));
  refuseParties(work, parties, 'finding.own_subject_forbidden',
    `this finding is about you, your access or an identity you created or own: someone else must ${what} it`);
};
