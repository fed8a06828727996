import { anchorFrom } from '../audit/anchor.js';
import { loadSigningKey, loadTrustedKeys, type KeySource } from '../audit/signing-key.js';
import { unsignedGraceMs } from '../config.js';
import { runPass } from '../jobs/pass.js';
import { applyPolicy } from '../operations/apply-policy.js';
import { checkInTransaction } from '../decision/policy-check.js';
import { approveRequest } from '../operations/approve-request.js';
import { approveRequests } from '../operations/approve-requests.js';
import { authorize } from '../operations/authorize.js';
import { cancelRequest } from '../operations/cancel-request.js';
import { changeEngagementEnd, endEngagement } from '../operations/change-engagement-end.js';
import { changeIdentityOperator } from '../operations/change-identity-operator.js';
import { changeIdentityStatus } from '../operations/change-identity-status.js';
import { inTransaction, type Context } from '../work/context.js';
import { createEngagement } from '../operations/create-engagement.js';
import { createIdentity } from '../operations/create-identity.js';
import { createRequest } from '../operations/create-request.js';
import { createToken } from '../operations/create-token.js';
import { createVendor } from '../operations/create-vendor.js';
import { changeVendorEnd } from '../operations/change-vendor-end.js';
import { pageVendors, showVendor } from '../operations/show-vendor.js';
import { buildVendorEvidence } from '../operations/build-vendor-evidence.js';
import { denyRequest } from '../operations/deny-request.js';
import { exportAudit } from '../operations/export-audit.js';
import { pageEngagements } from '../operations/list-engagements.js';
import { pageGrants } from '../operations/list-grants.js';
import { pageIdentities, showIdentity } from '../operations/list-identities.js';
import { pageRequests, showRequest } from '../operations/list-requests.js';
import { listTokens } from '../operations/list-tokens.js';
import { planPolicy } from '../operations/plan-policy.js';
import { revokeGrant } from '../operations/revoke-grant.js';
import { issueGrantCredential } from '../operations/issue-grant-credential.js';
import { revokeToken } from '../operations/revoke-token.js';
import { createWebhook } from '../operations/create-webhook.js';
import { deleteWebhook } from '../operations/delete-webhook.js';
import { listWebhookDeliveries } from '../operations/list-webhook-deliveries.js';
import { listWebhooks } from '../operations/list-webhooks.js';
import { rekeyWebhooks } from '../operations/rekey-webhooks.js';
import { confirmProvisioningTask } from '../operations/confirm-provisioning-task.js';
import { pageFindings } from '../operations/list-findings.js';
import { pageProvisioningJobs } from '../operations/list-provisioning-jobs.js';
import { reconcileSystems } from '../operations/reconcile-system.js';
import { releaseHeldRevocations } from '../operations/release-held-revocations.js';
import { resolveFinding } from '../operations/resolve-finding.js';
import { acceptFinding } from '../operations/accept-finding.js';
import { buildEvidencePack } from '../operations/build-evidence-pack.js';
import { listSystems } from '../operations/list-systems.js';
import { measureRevocationLag } from '../operations/measure-revocation-lag.js';
import { showEngagement } from '../operations/show-engagement.js';
import { listCredentials } from '../operations/list-credentials.js';
import { registerCredential } from '../operations/register-credential.js';
import { retireCredential } from '../operations/retire-credential.js';
import { rotateCredential } from '../operations/rotate-credential.js';
import { resolveProvisioningJob } from '../operations/resolve-provisioning-job.js';
import { listBreakGlassReviews } from '../operations/list-break-glass-reviews.js';
import { reviewBreakGlass } from '../operations/review-break-glass.js';
import { startBreakGlass } from '../operations/start-break-glass.js';
import { decideHrBatch } from '../operations/decide-hr-batch.js';
import { importHrFile } from '../operations/import-hr-file.js';
import { listHrBatches } from '../operations/list-hr-batches.js';
import { reassignOwnership } from '../operations/reassign-ownership.js';
import { createReviewCampaign } from '../operations/create-review-campaign.js';
import { decideReviewItem } from '../operations/decide-review-item.js';
import { listReviewItems } from '../operations/list-review-items.js';
import { renewEngagement } from '../operations/renew-engagement.js';
import { signSshCertificate } from '../operations/sign-ssh-certificate.js';
import { sshPrincipals } from '../operations/ssh-principals.js';
import { problemOf } from '../http/problem.js';
import type { WebhookKeyRing } from '../webhooks/crypto.js';
import { webhookTickOptions } from '../webhooks/index.js';
import { searchAudit } from '../operations/search-audit.js';
import { testPolicy } from '../operations/test-policy.js';
import { validatePolicy } from '../operations/validate-policy.js';
import { verifyAudit } from '../operations/verify-audit.js';
import { writeAuditCheckpoint } from '../operations/write-checkpoint.js';
import { handlesById } from '../store/queries/identities.js';
import { allPages, type Page, type TenureApi } from './api.js';

/** Where local use cases find keys: audit keys by source, the webhook key ring (created on the embedded default). */
export interface LocalKeys extends KeySource { webhookKey: () => WebhookKeyRing | undefined }

/**
 * The use cases in this process, on the database, acting as the --as identity: exactly what the
 * API runs on the server side, so every rule applies the same way. Lists follow their cursors to
 * the last page, as the remote side does. Audit keys come from this machine (environment or data
 * directory).
 */
export const localApi = (actAs: () => Promise<Context>, keys: LocalKeys): TenureApi => {
  let acting: Promise<Context> | undefined;
  // Looked up on the first operation and only once: a command that fails earlier never needs an actor.
  const ctx = () => (acting ??= actAs());
  const every = async <T>(page: (c: Context, cursor: string | undefined) => Promise<Page<T>>): Promise<T[]> => {
    const c = await ctx();
    return allPages((cursor) => page(c, cursor));
  };
  return {
    createIdentity: async (input) => createIdentity(await ctx(), input),
    listIdentities: () => every((c, cursor) => pageIdentities(c, { cursor })),
    showIdentity: async (ref) => showIdentity(await ctx(), ref),
    changeIdentityStatus: async (input) => changeIdentityStatus(await ctx(), input),
    changeIdentityOperator: async (input) => changeIdentityOperator(await ctx(), input),
    handles: async (ids) => handlesById((await ctx()).store.db, ids),
    createVendor: async (input) => createVendor(await ctx(), input),
    listVendors: () => every((c, cursor) => pageVendors(c, { cursor })),
    showVendor: async (ref) => showVendor(await ctx(), ref),
    changeVendorEnd: async (input) => changeVendorEnd(await ctx(), input),
    buildVendorEvidence: async (input) => buildVendorEvidence(await ctx(), input),

    createEngagement: async (input) => createEngagement(await ctx(), input),
    listEngagements: (input) => every((c, cursor) => pageEngagements(c, { ...input, cursor })),
    showEngagement: async (id) => showEngagement(await ctx(), id),
    changeEngagementEnd: async (input) => changeEngagementEnd(await ctx(), input),
    endEngagement: async (input) => endEngagement(await ctx(), input),

    createRequest: async (input) => createRequest(await ctx(), input),
    listRequests: (input) => every((c, cursor) => pageRequests(c, { ...input, cursor })),
    showRequest: async (id) => showRequest(await ctx(), id),
    cancelRequest: async (input) => cancelRequest(await ctx(), input),
    approveRequest: async (input) => approveRequest(await ctx(), input),
    // Refusals in the API's words, so a command prints the same whichever side decided.
    approveRequests: async (input) => {
      const { results } = await approveRequests(await ctx(), input);
      return { results: results.map(({ refusal, ...item }) => ({ ...item, problem: refusal && problemOf(refusal) })) };
    },
    denyRequest: async (input) => denyRequest(await ctx(), input),

    listGrants: (input) => every((c, cursor) => pageGrants(c, { ...input, cursor })),
    revokeGrant: async (input) => revokeGrant(await ctx(), input),
    issueGrantCredential: async (input) => issueGrantCredential(await ctx(), input),
    // The same check as POST /v1/lifecycle/run: a person asking for a pass needs worker.run.
    runPass: async () => {
      const c = await ctx();
      await inTransaction(c, (work) => authorize(work, 'worker.run'));
      return runPass(c, { webhooks: webhookTickOptions(keys) });
    },

    createToken: async (input) => createToken(await ctx(), input),
    listTokens: async () => listTokens(await ctx()),
    revokeToken: async (id) => revokeToken(await ctx(), { token: id }),

    validatePolicy: async (path) => validatePolicy(await ctx(), { path }),
    planPolicy: async (path, options) => planPolicy(await ctx(), { path }, options),
    applyPolicy: async (path) => applyPolicy(await ctx(), { path }, { checker: checkInTransaction }),
    testPolicy: async (path) => testPolicy(await ctx(), { path }, { checker: checkInTransaction }),

    verifyAudit: async (options) => verifyAudit(await ctx(), {
      trustedKeys: loadTrustedKeys(keys), anchor: anchorFrom(keys), unsignedGraceMs: unsignedGraceMs(keys.env), allowUnsigned: options?.allowUnsigned,
      strict: options?.strict,
    }),
    searchAudit: async (input) => searchAudit(await ctx(), input),
    exportAudit: async (input, out) => { await exportAudit(await ctx(), input, out); },
    createWebhook: async (input) => createWebhook(await ctx(), input, keys.webhookKey()),
    listWebhooks: async (input) => listWebhooks(await ctx(), input),
    deleteWebhook: async (id) => deleteWebhook(await ctx(), { webhook: id }),
    listWebhookDeliveries: async (input) => listWebhookDeliveries(await ctx(), input),
    rekeyWebhooks: async (input) => rekeyWebhooks(await ctx(), input, keys.webhookKey()),
    listProvisioningJobs: (input) => every((c, cursor) => pageProvisioningJobs(c, { ...input, cursor })),
    confirmProvisioningTask: async (input) => confirmProvisioningTask(await ctx(), input),
    resolveProvisioningJob: async (input) => resolveProvisioningJob(await ctx(), input),
    releaseHeldRevocations: async (input) => releaseHeldRevocations(await ctx(), input),
    reconcile: async (input) => reconcileSystems(await ctx(), input),
    listSystems: async () => listSystems(await ctx()),
    measureRevocationLag: async (input) => measureRevocationLag(await ctx(), input),
    listFindings: (input) => every((c, cursor) => pageFindings(c, { ...input, cursor })),
    resolveFinding: async (input) => resolveFinding(await ctx(), input),
    acceptFinding: async (input) => acceptFinding(await ctx(), input),
    buildEvidencePack: async (input) => buildEvidencePack(await ctx(), input),
    listCredentials: async (input) => listCredentials(await ctx(), input),
    registerCredential: async (input) => registerCredential(await ctx(), input),
    rotateCredential: async (input) => rotateCredential(await ctx(), input),
    retireCredential: async (input) => retireCredential(await ctx(), input),
    startBreakGlass: async (input) => startBreakGlass(await ctx(), input),
    importHrFile: async (input) => importHrFile(await ctx(), input),
    listHrBatches: async (input) => listHrBatches(await ctx(), input),
    decideHrBatch: async (input) => decideHrBatch(await ctx(), input),
    reassignOwnership: async (input) => reassignOwnership(await ctx(), input),
    listBreakGlassReviews: async (input) => listBreakGlassReviews(await ctx(), input),
    reviewBreakGlass: async (input) => reviewBreakGlass(await ctx(), input),
    createReviewCampaign: async (input) => createReviewCampaign(await ctx(), input),
    listReviewItems: async (input) => listReviewItems(await ctx(), input),
    decideReviewItem: async (input) => decideReviewItem(await ctx(), input),
    renewEngagement: async (input) => renewEngagement(await ctx(), input),
    signSshCertificate: async (input) => signSshCertificate(await ctx(), input),
    sshPrincipals: async (input) => sshPrincipals(await ctx(), input),
    writeCheckpoint: async () => writeAuditCheckpoint(await ctx(), loadSigningKey({ ...keys, create: true }), anchorFrom(keys)),
  };
};
