import type { exportAudit } from '../operations/export-audit.js';
import type { runPass } from '../jobs/pass.js';
import type { applyPolicy } from '../operations/apply-policy.js';
import type { approveRequest } from '../operations/approve-request.js';
import type { approveRequests, Decision } from '../operations/approve-requests.js';
import type { Problem } from '../http/problem.js';
import type { cancelRequest } from '../operations/cancel-request.js';
import type { changeEngagementEnd, endEngagement } from '../operations/change-engagement-end.js';
import type { changeIdentityOperator } from '../operations/change-identity-operator.js';
import type { setMailDelivery } from '../operations/set-mail-delivery.js';
import type { changeIdentityStatus } from '../operations/change-identity-status.js';
import type { createEngagement } from '../operations/create-engagement.js';
import type { createIdentity } from '../operations/create-identity.js';
import type { createRequest } from '../operations/create-request.js';
import type { createToken } from '../operations/create-token.js';
import type { createVendor } from '../operations/create-vendor.js';
import type { changeVendorEnd } from '../operations/change-vendor-end.js';
import type { pageVendors, showVendor } from '../operations/show-vendor.js';
import type { buildVendorEvidence } from '../operations/build-vendor-evidence.js';
import type { denyRequest } from '../operations/deny-request.js';
import type { listEngagements } from '../operations/list-engagements.js';
import type { listSystems } from '../operations/list-systems.js';
import type { measureRevocationLag } from '../operations/measure-revocation-lag.js';
import type { showEngagement } from '../operations/show-engagement.js';
import type { listGrants } from '../operations/list-grants.js';
import type { listProxySessions } from '../operations/list-proxy-sessions.js';
import type { showProxySession } from '../operations/show-proxy-session.js';
import type { listProxySessionTimeline } from '../operations/list-proxy-session-timeline.js';
import type { listIdentities, showIdentity } from '../operations/list-identities.js';
import type { listRequests, showRequest } from '../operations/list-requests.js';
import type { listTokens } from '../operations/list-tokens.js';
import type { planPolicy } from '../operations/plan-policy.js';
import type { revokeGrant } from '../operations/revoke-grant.js';
import type { issueGrantCredential } from '../operations/issue-grant-credential.js';
import type { revokeToken } from '../operations/revoke-token.js';
import type { searchAudit } from '../operations/search-audit.js';
import type { testPolicy } from '../operations/test-policy.js';
import type { validatePolicy } from '../operations/validate-policy.js';
import type { verifyAudit } from '../operations/verify-audit.js';
import type { writeAuditCheckpoint } from '../operations/write-checkpoint.js';
import type { createWebhook } from '../operations/create-webhook.js';
import type { deleteWebhook } from '../operations/delete-webhook.js';
import type { listWebhookDeliveries } from '../operations/list-webhook-deliveries.js';
import type { listWebhooks } from '../operations/list-webhooks.js';
import type { rekeyWebhooks } from '../operations/rekey-webhooks.js';
import type { rotateWebhookSecret } from '../operations/rotate-webhook-secret.js';
import type { confirmProvisioningTask } from '../operations/confirm-provisioning-task.js';
import type { listFindings } from '../operations/list-findings.js';
import type { listProvisioningJobs } from '../operations/list-provisioning-jobs.js';
import type { reconcileSystems } from '../operations/reconcile-system.js';
import type { releaseHeldRevocations } from '../operations/release-held-revocations.js';
import type { resolveFinding } from '../operations/resolve-finding.js';
import type { acceptFinding } from '../operations/accept-finding.js';
import type { buildEvidencePack } from '../operations/build-evidence-pack.js';
import type { listCredentials } from '../operations/list-credentials.js';
import type { registerCredential } from '../operations/register-credential.js';
import type { retireCredential } from '../operations/retire-credential.js';
import type { rotateCredential } from '../operations/rotate-credential.js';
import type { resolveProvisioningJob } from '../operations/resolve-provisioning-job.js';
import type { listBreakGlassReviews } from '../operations/list-break-glass-reviews.js';
import type { reviewBreakGlass } from '../operations/review-break-glass.js';
import type { startBreakGlass } from '../operations/start-break-glass.js';
import type { decideHrBatch } from '../operations/decide-hr-batch.js';
import type { importHrFile } from '../operations/import-hr-file.js';
import type { listHrBatches } from '../operations/list-hr-batches.js';
import type { reassignOwnership } from '../operations/reassign-ownership.js';
import type { createReviewCampaign } from '../operations/create-review-campaign.js';
import type { decideReviewItem } from '../operations/decide-review-item.js';
import type { listReviewItems } from '../operations/list-review-items.js';
import type { renewEngagement } from '../operations/renew-engagement.js';
import type { signSshCertificate } from '../operations/sign-ssh-certificate.js';
import type { sshPrincipals } from '../operations/ssh-principals.js';
import type { sshAuthorizedKeys } from '../operations/ssh-authorized-keys.js';

/**
 * An answer as it crosses the seam: the use case's own shape, with dates as Date when the use case
 * ran in this process and as ISO 8601 text when it came over HTTP. Commands only print them.
 */
export type Wire<T> = T extends Date ? Date | string
  : T extends readonly (infer U)[] ? Wire<U>[]
    : T extends object ? { [K in keyof T]: Wire<T[K]> } : T;

type UseCase = (...args: never[]) => Promise<unknown>;
type Answer<F extends UseCase> = Promise<Wire<Awaited<ReturnType<F>>>>;
/** The use case's input: its second argument, after the context. */
type In<F extends UseCase> = Parameters<F>[1];

export type AuditFilters = Omit<In<typeof exportAudit>, 'limit'>;

/** A bulk approval as the API answers it: each refusal as the problem one approval would have returned. */
export interface BulkApproval { results: { request: string; outcome: Wire<Decision> | null; problem: Problem | null }[] }

/**
 * Every operation the CLI performs, behind one interface with two implementations: local (the use
 * case in this process, on the database, acting as --as) and remote (the HTTP API of a running
 * server, acting as the owner of TENURE_TOKEN). Commands call this and never know which it is.
 */
export interface TenureApi {
  createIdentity(input: In<typeof createIdentity>): Answer<typeof createIdentity>;
  listIdentities(): Answer<typeof listIdentities>;
  showIdentity(ref: string): Answer<typeof showIdentity>;
  changeIdentityStatus(input: In<typeof changeIdentityStatus>): Answer<typeof changeIdentityStatus>;
  changeIdentityOperator(input: In<typeof changeIdentityOperator>): Answer<typeof changeIdentityOperator>;
  setMailDelivery(input: In<typeof setMailDelivery>): Answer<typeof setMailDelivery>;
  /** Handles of identity ids, for printing audit events; an id that cannot be looked up maps to nothing. */
  handles(ids: string[]): Promise<Map<string, string>>;
  createVendor(input: In<typeof createVendor>): Answer<typeof createVendor>;
  listVendors(): Promise<Awaited<ReturnType<typeof pageVendors>>['items']>;
  showVendor(ref: string): Answer<typeof showVendor>;
  changeVendorEnd(input: In<typeof changeVendorEnd>): Answer<typeof changeVendorEnd>;
  buildVendorEvidence(input: In<typeof buildVendorEvidence>): Answer<typeof buildVendorEvidence>;

  createEngagement(input: In<typeof createEngagement>): Answer<typeof createEngagement>;
  listEngagements(input: In<typeof listEngagements>): Answer<typeof listEngagements>;
  showEngagement(id: string): Answer<typeof showEngagement>;
  changeEngagementEnd(input: In<typeof changeEngagementEnd>): Answer<typeof changeEngagementEnd>;
  endEngagement(input: In<typeof endEngagement>): Answer<typeof endEngagement>;

  createRequest(input: In<typeof createRequest>): Answer<typeof createRequest>;
  listRequests(input: In<typeof listRequests>): Answer<typeof listRequests>;
  showRequest(id: string): Answer<typeof showRequest>;
  cancelRequest(input: In<typeof cancelRequest>): Answer<typeof cancelRequest>;
  approveRequest(input: In<typeof approveRequest>): Answer<typeof approveRequest>;
  approveRequests(input: In<typeof approveRequests>): Promise<BulkApproval>;
  denyRequest(input: In<typeof denyRequest>): Answer<typeof denyRequest>;

  listGrants(input: In<typeof listGrants>): Answer<typeof listGrants>;
  listProxySessions(input: In<typeof listProxySessions>): Answer<typeof listProxySessions>;
  showProxySession(input: In<typeof showProxySession>): Answer<typeof showProxySession>;
  /** Every statement of a PostgreSQL session, page after page. */
  listProxySessionTimeline(input: Omit<In<typeof listProxySessionTimeline>, 'cursor'>): Promise<Wire<Awaited<ReturnType<typeof listProxySessionTimeline>>['items']>>;
  /** Writes the session's whole stored recording to `out` as it comes (what its audited SHA-256 covers). */
  downloadProxySessionRecording(session: string, out: NodeJS.WritableStream): Promise<void>;
  revokeGrant(input: In<typeof revokeGrant>): Answer<typeof revokeGrant>;
  issueGrantCredential(input: In<typeof issueGrantCredential>): Answer<typeof issueGrantCredential>;
  /** One whole worker pass (lifecycle, HR, provisioning, reviews, webhooks...); needs worker.run. */
  runPass(): Answer<typeof runPass>;

  createToken(input: In<typeof createToken>): Answer<typeof createToken>;
  listTokens(): Answer<typeof listTokens>;
  revokeToken(id: string): Answer<typeof revokeToken>;

  /** A policy file or folder on this machine; the remote side reads it here and sends its text. */
  validatePolicy(path: string): Answer<typeof validatePolicy>;
  planPolicy(path: string, options?: { impact?: boolean }): Answer<typeof planPolicy>;
  applyPolicy(path: string): Answer<typeof applyPolicy>;
  testPolicy(path: string): Answer<typeof testPolicy>;

  verifyAudit(options?: { allowUnsigned?: boolean; strict?: boolean }): Answer<typeof verifyAudit>;
  searchAudit(input: In<typeof searchAudit>): Answer<typeof searchAudit>;
  /** Writes the matching events as JSON Lines to `out` as they come. */
  exportAudit(input: AuditFilters, out: NodeJS.WritableStream): Promise<void>;
  writeCheckpoint(): Answer<typeof writeAuditCheckpoint>;

  createWebhook(input: In<typeof createWebhook>): Answer<typeof createWebhook>;
  listWebhooks(input: In<typeof listWebhooks>): Answer<typeof listWebhooks>;
  deleteWebhook(id: string): Answer<typeof deleteWebhook>;
  listWebhookDeliveries(input: In<typeof listWebhookDeliveries>): Answer<typeof listWebhookDeliveries>;
  /** Re-encrypts under the current key of the webhook key ring, where the ring is: this process, or the server. */
  rekeyWebhooks(input: In<typeof rekeyWebhooks>): Answer<typeof rekeyWebhooks>;
  /** A new signing secret, shown once; the old one keeps signing beside it for the overlap. */
  rotateWebhookSecret(webhook: string, options: Parameters<typeof rotateWebhookSecret>[2]): Answer<typeof rotateWebhookSecret>;

  listProvisioningJobs(input: In<typeof listProvisioningJobs>): Answer<typeof listProvisioningJobs>;
  confirmProvisioningTask(input: In<typeof confirmProvisioningTask>): Answer<typeof confirmProvisioningTask>;
  resolveProvisioningJob(input: In<typeof resolveProvisioningJob>): Answer<typeof resolveProvisioningJob>;
  releaseHeldRevocations(input: In<typeof releaseHeldRevocations>): Answer<typeof releaseHeldRevocations>;
  reconcile(input: In<typeof reconcileSystems>): Answer<typeof reconcileSystems>;
  listSystems(): Answer<typeof listSystems>;
  measureRevocationLag(input: In<typeof measureRevocationLag>): Answer<typeof measureRevocationLag>;
  listFindings(input: In<typeof listFindings>): Answer<typeof listFindings>;
  resolveFinding(input: In<typeof resolveFinding>): Answer<typeof resolveFinding>;
  acceptFinding(input: In<typeof acceptFinding>): Answer<typeof acceptFinding>;
  buildEvidencePack(input: In<typeof buildEvidencePack>): Answer<typeof buildEvidencePack>;

  listCredentials(input: In<typeof listCredentials>): Answer<typeof listCredentials>;
  registerCredential(input: In<typeof registerCredential>): Answer<typeof registerCredential>;
  rotateCredential(input: In<typeof rotateCredential>): Answer<typeof rotateCredential>;
  retireCredential(input: In<typeof retireCredential>): Answer<typeof retireCredential>;

  startBreakGlass(input: In<typeof startBreakGlass>): Answer<typeof startBreakGlass>;
  importHrFile(input: In<typeof importHrFile>): Answer<typeof importHrFile>;
  listHrBatches(input: In<typeof listHrBatches>): Answer<typeof listHrBatches>;
  decideHrBatch(input: In<typeof decideHrBatch>): Answer<typeof decideHrBatch>;
  reassignOwnership(input: In<typeof reassignOwnership>): Answer<typeof reassignOwnership>;
  listBreakGlassReviews(input: In<typeof listBreakGlassReviews>): Answer<typeof listBreakGlassReviews>;
  reviewBreakGlass(input: In<typeof reviewBreakGlass>): Answer<typeof reviewBreakGlass>;

  createReviewCampaign(input: In<typeof createReviewCampaign>): Answer<typeof createReviewCampaign>;
  listReviewItems(input: In<typeof listReviewItems>): Answer<typeof listReviewItems>;
  decideReviewItem(input: In<typeof decideReviewItem>): Answer<typeof decideReviewItem>;
  renewEngagement(input: In<typeof renewEngagement>): Answer<typeof renewEngagement>;

  signSshCertificate(input: In<typeof signSshCertificate>): Answer<typeof signSshCertificate>;
  sshPrincipals(input: In<typeof sshPrincipals>): Answer<typeof sshPrincipals>;
  sshAuthorizedKeys(input: In<typeof sshAuthorizedKeys>): Answer<typeof sshAuthorizedKeys>;
}

/**
 * An API whose implementation is imported on its first call, so a command that never calls it
 * loads none of it. Every method returns a promise, so a deferred call is indistinguishable.
 */
export const deferredApi = (load: () => Promise<TenureApi>): TenureApi => {
  let loaded: Promise<TenureApi> | undefined;
  return new Proxy({} as TenureApi, {
    // `then` stays undefined, so awaiting the API itself does not mistake it for a promise.
    get: (_target, name) => (name === 'then' ? undefined : (...args: unknown[]) => (loaded ??= load())
      .then((api) => (api[name as keyof TenureApi] as (...a: unknown[]) => Promise<unknown>)(...args))),
  });
};

export interface Page<T> { items: T[]; nextCursor?: string | null }

/** Follows nextCursor until the last page, so a list command prints everything either way. */
export const allPages = async <T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[]> => {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return items;
};
