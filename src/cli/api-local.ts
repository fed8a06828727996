import type { Writable } from 'node:stream';
import { anchorFrom } from '../audit/anchor.js';
import { loadSigningKey, loadTrustedKeys, type KeySource } from '../audit/signing-key.js';
import { loadHttpConfig, unsignedGraceMs } from '../config.js';
import type { Context } from '../work/context.js';
import type { WebhookKeyRing } from '../webhooks/crypto.js';
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
  // Each use case's module is imported on its call, while the database opens: a command loads
  // only the code it runs, which is most of what a start on the embedded database used to cost.
  const use = async <M, R>(module: Promise<M>, call: (m: M, c: Context) => Promise<R>): Promise<R> => {
    const [m, c] = await Promise.all([module, ctx()]);
    return call(m, c);
  };
  const every = async <M, T>(module: Promise<M>, page: (m: M, c: Context, cursor: string | undefined) => Promise<Page<T>>): Promise<T[]> => {
    const [m, c] = await Promise.all([module, ctx()]);
    return allPages((cursor) => page(m, c, cursor));
  };
  const checker = async () => (await import('../decision/policy-check.js')).checkInTransaction;
  return {
    createIdentity: (input) => use(import('../operations/create-identity.js'), (m, c) => m.createIdentity(c, input)),
    listIdentities: () => every(import('../operations/list-identities.js'), (m, c, cursor) => m.pageIdentities(c, { cursor })),
    showIdentity: (ref) => use(import('../operations/list-identities.js'), (m, c) => m.showIdentity(c, ref)),
    changeIdentityStatus: (input) => use(import('../operations/change-identity-status.js'), (m, c) => m.changeIdentityStatus(c, input)),
    changeIdentityOperator: (input) => use(import('../operations/change-identity-operator.js'), (m, c) => m.changeIdentityOperator(c, input)),
    setMailDelivery: (input) => use(import('../operations/set-mail-delivery.js'), (m, c) => m.setMailDelivery(c, input)),
    handles: (ids) => use(import('../store/queries/identities.js'), (m, c) => m.handlesById(c.store.db, ids)),
    createVendor: (input) => use(import('../operations/create-vendor.js'), (m, c) => m.createVendor(c, input)),
    listVendors: () => every(import('../operations/show-vendor.js'), (m, c, cursor) => m.pageVendors(c, { cursor })),
    showVendor: (ref) => use(import('../operations/show-vendor.js'), (m, c) => m.showVendor(c, ref)),
    changeVendorEnd: (input) => use(import('../operations/change-vendor-end.js'), (m, c) => m.changeVendorEnd(c, input)),
    buildVendorEvidence: (input) => use(import('../operations/build-vendor-evidence.js'), (m, c) => m.buildVendorEvidence(c, input)),

    createEngagement: (input) => use(import('../operations/create-engagement.js'), (m, c) => m.createEngagement(c, input)),
    listEngagements: (input) => every(import('../operations/list-engagements.js'), (m, c, cursor) => m.pageEngagements(c, { ...input, cursor })),
    showEngagement: (id) => use(import('../operations/show-engagement.js'), (m, c) => m.showEngagement(c, id)),
    changeEngagementEnd: (input) => use(import('../operations/change-engagement-end.js'), (m, c) => m.changeEngagementEnd(c, input)),
    endEngagement: (input) => use(import('../operations/change-engagement-end.js'), (m, c) => m.endEngagement(c, input)),

    createRequest: (input) => use(import('../operations/create-request.js'), (m, c) => m.createRequest(c, input)),
    listRequests: (input) => every(import('../operations/list-requests.js'), (m, c, cursor) => m.pageRequests(c, { ...input, cursor })),
    showRequest: (id) => use(import('../operations/list-requests.js'), (m, c) => m.showRequest(c, id)),
    cancelRequest: (input) => use(import('../operations/cancel-request.js'), (m, c) => m.cancelRequest(c, input)),
    approveRequest: (input) => use(import('../operations/approve-request.js'), (m, c) => m.approveRequest(c, input)),
    // Refusals in the API's words, so a command prints the same whichever side decided.
    approveRequests: (input) => use(import('../operations/approve-requests.js'), async (m, c) => {
      const [{ results }, { problemOf }] = await Promise.all([m.approveRequests(c, input), import('../http/problem.js')]);
      return { results: results.map(({ refusal, ...item }) => ({ ...item, problem: refusal && problemOf(refusal) })) };
    }),
    denyRequest: (input) => use(import('../operations/deny-request.js'), (m, c) => m.denyRequest(c, input)),

    listGrants: (input) => every(import('../operations/list-grants.js'), (m, c, cursor) => m.pageGrants(c, { ...input, cursor })),
    listProxySessions: (input) => every(import('../operations/list-proxy-sessions.js'), (m, c, cursor) => m.pageProxySessions(c, { ...input, cursor })),
    showProxySession: (input) => use(import('../operations/show-proxy-session.js'), (m, c) => m.showProxySession(c, input)),
    listProxySessionTimeline: (input) => every(import('../operations/list-proxy-session-timeline.js'),
      (m, c, cursor) => m.listProxySessionTimeline(c, { ...input, cursor })),
    downloadProxySessionRecording: (session, out) => use(import('../operations/read-proxy-session-recording.js'), async (m, c) => {
      await m.openProxySessionRecording(c, { session });
      await m.writeProxySessionRecording(c, session, out as Writable);
    }),
    revokeGrant: (input) => use(import('../operations/revoke-grant.js'), (m, c) => m.revokeGrant(c, input)),
    issueGrantCredential: (input) => use(import('../operations/issue-grant-credential.js'), (m, c) => m.issueGrantCredential(c, input)),
    // The same check as POST /v1/lifecycle/run: a person asking for a pass needs worker.run.
    runPass: () => use(import('../jobs/pass.js'), async (m, c) => {
      const [{ inTransaction }, { authorize }, { webhookTickOptions }, { loadSiemTargets }, { productVersion }, { mailSettingsFromEnv }] = await Promise.all([
        import('../work/context.js'), import('../operations/authorize.js'), import('../webhooks/index.js'),
        import('../siem/config.js'), import('../siem/version.js'), import('../mail/index.js')]);
      await inTransaction(c, (work) => authorize(work, 'worker.run'));
      const mail = { settings: mailSettingsFromEnv({ ...keys, publicUrl: loadHttpConfig(keys.env).publicUrl }) };
      return m.runPass(c, { webhooks: webhookTickOptions(keys), siem: loadSiemTargets(keys.env, productVersion()), mail });
    }),

    createToken: (input) => use(import('../operations/create-token.js'), (m, c) => m.createToken(c, input)),
    listTokens: () => use(import('../operations/list-tokens.js'), (m, c) => m.listTokens(c)),
    revokeToken: (id) => use(import('../operations/revoke-token.js'), (m, c) => m.revokeToken(c, { token: id })),

    validatePolicy: (path) => use(import('../operations/validate-policy.js'), (m, c) => m.validatePolicy(c, { path })),
    planPolicy: (path, options) => use(import('../operations/plan-policy.js'), (m, c) => m.planPolicy(c, { path }, options)),
    applyPolicy: (path) => use(import('../operations/apply-policy.js'), async (m, c) => m.applyPolicy(c, { path }, { checker: await checker() })),
    testPolicy: (path) => use(import('../operations/test-policy.js'), async (m, c) => m.testPolicy(c, { path }, { checker: await checker() })),

    verifyAudit: (options) => use(import('../operations/verify-audit.js'), (m, c) => m.verifyAudit(c, {
      trustedKeys: loadTrustedKeys(keys), anchor: anchorFrom(keys), unsignedGraceMs: unsignedGraceMs(keys.env), allowUnsigned: options?.allowUnsigned,
      strict: options?.strict,
    })),
    searchAudit: (input) => use(import('../operations/search-audit.js'), (m, c) => m.searchAudit(c, input)),
    exportAudit: (input, out) => use(import('../operations/export-audit.js'), async (m, c) => { await m.exportAudit(c, input, out); }),
    createWebhook: (input) => use(import('../operations/create-webhook.js'), (m, c) => m.createWebhook(c, input, keys.webhookKey())),
    listWebhooks: (input) => use(import('../operations/list-webhooks.js'), (m, c) => m.listWebhooks(c, input)),
    deleteWebhook: (id) => use(import('../operations/delete-webhook.js'), (m, c) => m.deleteWebhook(c, { webhook: id })),
    rekeyWebhooks: (input) => use(import('../operations/rekey-webhooks.js'), (m, c) => m.rekeyWebhooks(c, input, keys.webhookKey())),
    rotateWebhookSecret: (webhook, options) => use(import('../operations/rotate-webhook-secret.js'), (m, c) => m.rotateWebhookSecret(c, webhook, options, keys.webhookKey())),
    listWebhookDeliveries: (input) => use(import('../operations/list-webhook-deliveries.js'), (m, c) => m.listWebhookDeliveries(c, input)),
    listProvisioningJobs: (input) => every(import('../operations/list-provisioning-jobs.js'), (m, c, cursor) => m.pageProvisioningJobs(c, { ...input, cursor })),
    confirmProvisioningTask: (input) => use(import('../operations/confirm-provisioning-task.js'), (m, c) => m.confirmProvisioningTask(c, input)),
    resolveProvisioningJob: (input) => use(import('../operations/resolve-provisioning-job.js'), (m, c) => m.resolveProvisioningJob(c, input)),
    releaseHeldRevocations: (input) => use(import('../operations/release-held-revocations.js'), (m, c) => m.releaseHeldRevocations(c, input)),
    reconcile: (input) => use(import('../operations/reconcile-system.js'), (m, c) => m.reconcileSystems(c, input)),
    listSystems: () => use(import('../operations/list-systems.js'), (m, c) => m.listSystems(c)),
    measureRevocationLag: (input) => use(import('../operations/measure-revocation-lag.js'), (m, c) => m.measureRevocationLag(c, input)),
    listFindings: (input) => every(import('../operations/list-findings.js'), (m, c, cursor) => m.pageFindings(c, { ...input, cursor })),
    resolveFinding: (input) => use(import('../operations/resolve-finding.js'), (m, c) => m.resolveFinding(c, input)),
    acceptFinding: (input) => use(import('../operations/accept-finding.js'), (m, c) => m.acceptFinding(c, input)),
    buildEvidencePack: (input) => use(import('../operations/build-evidence-pack.js'), (m, c) => m.buildEvidencePack(c, input)),
    listCredentials: (input) => use(import('../operations/list-credentials.js'), (m, c) => m.listCredentials(c, input)),
    registerCredential: (input) => use(import('../operations/register-credential.js'), (m, c) => m.registerCredential(c, input)),
    rotateCredential: (input) => use(import('../operations/rotate-credential.js'), (m, c) => m.rotateCredential(c, input)),
    retireCredential: (input) => use(import('../operations/retire-credential.js'), (m, c) => m.retireCredential(c, input)),
    startBreakGlass: (input) => use(import('../operations/start-break-glass.js'), (m, c) => m.startBreakGlass(c, input)),
    importHrFile: (input) => use(import('../operations/import-hr-file.js'), (m, c) => m.importHrFile(c, input)),
    listHrBatches: (input) => use(import('../operations/list-hr-batches.js'), (m, c) => m.listHrBatches(c, input)),
    decideHrBatch: (input) => use(import('../operations/decide-hr-batch.js'), (m, c) => m.decideHrBatch(c, input)),
    reassignOwnership: (input) => use(import('../operations/reassign-ownership.js'), (m, c) => m.reassignOwnership(c, input)),
    listBreakGlassReviews: (input) => use(import('../operations/list-break-glass-reviews.js'), (m, c) => m.listBreakGlassReviews(c, input)),
    reviewBreakGlass: (input) => use(import('../operations/review-break-glass.js'), (m, c) => m.reviewBreakGlass(c, input)),
    createReviewCampaign: (input) => use(import('../operations/create-review-campaign.js'), (m, c) => m.createReviewCampaign(c, input)),
    listReviewItems: (input) => use(import('../operations/list-review-items.js'), (m, c) => m.listReviewItems(c, input)),
    decideReviewItem: (input) => use(import('../operations/decide-review-item.js'), (m, c) => m.decideReviewItem(c, input)),
    renewEngagement: (input) => use(import('../operations/renew-engagement.js'), (m, c) => m.renewEngagement(c, input)),
    signSshCertificate: (input) => use(import('../operations/sign-ssh-certificate.js'), (m, c) => m.signSshCertificate(c, input)),
    sshPrincipals: (input) => use(import('../operations/ssh-principals.js'), (m, c) => m.sshPrincipals(c, input)),
    sshAuthorizedKeys: (input) => use(import('../operations/ssh-authorized-keys.js'), (m, c) => m.sshAuthorizedKeys(c, input)),
    writeCheckpoint: () => use(import('../operations/write-checkpoint.js'),
      (m, c) => m.writeAuditCheckpoint(c, loadSigningKey({ ...keys, create: true }), anchorFrom(keys))),
  };
};
