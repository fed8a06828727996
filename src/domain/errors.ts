/**
 * The one error registry. Every refusal Tenure gives carries one of these stable codes; the CLI maps
 * `exit` to its exit code and the HTTP layer maps `status` to its response. `docs/errors.md` is
 * generated from this list and a test keeps the two in sync.
 *
 * Exit codes: 1 internal, 2 usage/invalid input, 3 refused by a rule, 4 not found, 5 database held.
 */
type Entry = { status: number; exit: 1 | 2 | 3 | 4 | 5; title: string };

export const ERRORS = {
  'input.invalid': { status: 400, exit: 2, title: 'A field is missing or breaks a rule of its format' },
  'input.malformed': { status: 400, exit: 2, title: 'The body is not well-formed JSON' },
  'input.too_large': { status: 413, exit: 2, title: 'The body is larger than the service accepts' },
  'input.unsupported_media_type': { status: 415, exit: 2, title: 'Bodies must be application/json' },
  'route.not_found': { status: 404, exit: 4, title: 'No such route' },
  'web.not_built': { status: 404, exit: 4, title: 'The web console has not been built on this server (npm run web:build)' },
  'auth.required': { status: 401, exit: 2, title: 'Sign in or send a bearer token' },
  'auth.invalid_credentials': { status: 401, exit: 2, title: 'The token or session is not valid (unknown, expired, revoked, or its owner is not active)' },
  'auth.cross_site_refused': { status: 403, exit: 3, title: 'A write with a browser session came from another site' },
  'auth.scope_missing': { status: 403, exit: 3, title: 'The token lacks the scope this route needs' },
  'auth.oidc_not_configured': { status: 404, exit: 4, title: 'Web sign-in is not configured (TENURE_OIDC_ISSUER is not set)' },
  'auth.sign_in_invalid': { status: 400, exit: 2, title: 'The sign-in attempt is unknown, expired, already used or was not confirmed by the provider; start again' },
  'auth.sign_in_refused': { status: 403, exit: 3, title: 'The provider account does not sign in as an active Tenure identity' },
  'auth.demo_link_invalid': { status: 400, exit: 2, title: 'The demo sign-in link is unknown, expired or already used; restart tenure serve --demo for new links' },
  'auth.demo_links_off': { status: 404, exit: 4, title: 'Demo sign-in links work only while the server runs with tenure serve --demo' },
  'demo.not_allowed': { status: 409, exit: 3, title: 'Demo sign-in links are only for the embedded database outside production (not with DATABASE_URL or NODE_ENV=production)' },
  'rate.limited': { status: 429, exit: 3, title: 'Too many writes this minute from this identity (all its tokens and sessions) or, signed out, this address; retry after Retry-After' },
  'idempotency.key_reused': { status: 422, exit: 2, title: 'The Idempotency-Key was already used for a different request' },
  'idempotency.in_progress': { status: 409, exit: 3, title: 'A request with this Idempotency-Key is still being processed' },
  'idempotency.outcome_lost': { status: 409, exit: 3, title: 'The request with this Idempotency-Key was carried out, but its answer was lost; read the result instead of retrying' },
  'service.not_ready': { status: 503, exit: 1, title: 'The service cannot answer safely right now' },
  'service.unavailable': { status: 503, exit: 1, title: 'The database could not be reached or stayed contended (connection lost, refused or timed out, repeated deadlock); retry after Retry-After, a write with the same Idempotency-Key' },
  'store.schema_newer': { status: 503, exit: 1, title: 'A newer release of Tenure has migrated this database; run that release or newer, or restore the backup taken before the upgrade' },
  'server.unreachable': { status: 502, exit: 1, title: 'The CLI cannot reach the Tenure server named by --server or TENURE_SERVER' },
  'server.local_only': { status: 400, exit: 2, title: 'This command works on the database directly; run it without --server or TENURE_SERVER' },
  'server.required': { status: 400, exit: 2, title: 'This command asks a running server; set --server or TENURE_SERVER, and TENURE_TOKEN' },
  'token.not_found': { status: 404, exit: 4, title: 'No API token with that id' },
  'token.invalid_expiry': { status: 422, exit: 3, title: 'A token must expire, within the longest lifetime allowed' },
  'token.person_only_self': { status: 403, exit: 3, title: 'A person\'s token is minted only by that person; others may mint tokens for service accounts only' },
  'token.scope_exceeds_parent': { status: 422, exit: 3, title: 'A token minted with a token may hold only scopes its parent holds' },
  'token.outlives_parent': { status: 422, exit: 3, title: 'A token minted with a token may not expire after its parent' },
  'actor.required': { status: 401, exit: 2, title: 'The acting identity must be named (--as, TENURE_ACTOR or a token)' },
  'actor.inactive': { status: 403, exit: 3, title: 'The acting identity is not active' },
  'actor.forbidden': { status: 403, exit: 3, title: 'The acting identity may not do this' },
  'setup.already_initialised': { status: 409, exit: 3, title: 'The database already has identities' },
  'identity.not_found': { status: 404, exit: 4, title: 'No identity with that id or handle' },
  'identity.handle_taken': { status: 409, exit: 3, title: 'Another identity already uses that handle' },
  'identity.shared_handle': { status: 422, exit: 3, title: 'A person needs a named handle, not one that reads as a shared account' },
  'identity.sponsor_required': { status: 422, exit: 3, title: 'A non-employee needs an active employee sponsor' },
  'identity.sponsor_inactive': { status: 422, exit: 3, title: 'The sponsor of this identity is not active' },
  'identity.owner_required': { status: 422, exit: 3, title: 'A service account needs an active human owner' },
  'identity.invalid_transition': { status: 409, exit: 3, title: 'That status change is not allowed' },
  'identity.not_active': { status: 422, exit: 3, title: 'The identity is not active' },
  'identity.vendor_conflict': { status: 422, exit: 3, title: "A service account's one vendor is its operator: vendor and operatedBy name different vendors" },
  'identity.operator_self_forbidden': { status: 403, exit: 3, title: 'Nobody changes the operator of a service account they own or act as (themselves, or with a credential its owner minted)' },
  'vendor.not_found': { status: 404, exit: 4, title: 'No vendor with that id or name' },
  'vendor.name_taken': { status: 409, exit: 3, title: 'Another vendor already uses that name' },
  'vendor.invalid_contract_end': { status: 422, exit: 3, title: 'The contract end is not allowed (at most ten years ahead)' },
  'vendor.not_operator': { status: 422, exit: 3, title: 'Only a service account is operated by a vendor' },
  'engagement.not_found': { status: 404, exit: 4, title: 'No engagement with that id' },
  'engagement.required': { status: 422, exit: 3, title: 'A non-employee needs an active engagement' },
  'engagement.not_active': { status: 409, exit: 3, title: 'The engagement is not active' },
  'engagement.invalid_dates': { status: 422, exit: 3, title: 'The engagement dates are not allowed' },
  'engagement.not_for_employee': { status: 422, exit: 3, title: 'Engagements are for non-employees' },
  'system.not_found': { status: 404, exit: 4, title: 'No system with that key' },
  'entitlement.not_found': { status: 404, exit: 4, title: 'No entitlement with that key' },
  'entitlement.retired': { status: 422, exit: 3, title: 'The entitlement is retired by policy' },
  'connector.privileged_target': { status: 422, exit: 3, title: 'The target role can do more than its entitlement declares (superuser, BYPASSRLS, REPLICATION, CREATEROLE, the connector itself, or a host or all-data role): only an entitlement with privileged_target: true grants it' },
  'policy.tests_failed': { status: 422, exit: 3, title: "The policy's own tests fail: it is not applied" },
  'policy.invalid': { status: 422, exit: 2, title: 'The policy files have errors' },
  'policy.not_applied': { status: 409, exit: 3, title: 'No policy has been applied yet' },
  'policy.entitlement_in_use': { status: 409, exit: 3, title: 'The policy removes an entitlement that live grants use, or changes whether it is a shared account while grants of it are live or not yet removed' },
  'policy.self_grant_forbidden': { status: 403, exit: 3, title: 'A policy apply would give the applier (or the issuer of its credential) powers they do not hold' },
  'request.not_found': { status: 404, exit: 4, title: 'No access request with that id' },
  'request.not_pending': { status: 409, exit: 3, title: 'The request is no longer pending' },
  'request.self_approval_forbidden': { status: 403, exit: 3, title: 'Nobody approves a request they made' },
  'request.beneficiary_approval_forbidden': { status: 403, exit: 3, title: 'Nobody approves a request for themselves' },
  'request.party_approval_forbidden': { status: 403, exit: 3, title: 'Nobody decides a request they are a party to: creator or owner of its requester or beneficiary, or issuer of a credential used' },
  'request.second_stage_forbidden': { status: 403, exit: 3, title: 'No one approves two stages of one request' },
  'request.approver_needed_later': { status: 409, exit: 3, title: 'The actor is the only eligible approver of a later stage and must leave this one to someone else' },
  'request.approver_rule_forbidden': { status: 403, exit: 3, title: 'A policy rule about who may approve whom keeps you from this stage' },
  'request.not_an_approver': { status: 403, exit: 3, title: 'The actor is not an eligible approver of the current stage' },
  'request.no_eligible_approver': { status: 422, exit: 3, title: 'A stage of the route has no eligible approver' },
  'request.invalid_window': { status: 422, exit: 3, title: 'The access window is not valid' },
  'request.exceeds_max_duration': { status: 422, exit: 3, title: 'The window is longer than policy allows for this tier and identity kind' },
  'request.evidence_required': { status: 422, exit: 3, title: 'The policy asks this request for evidence it does not carry (a ticket, a longer justification)' },
  'request.sod_conflict': { status: 422, exit: 3, title: 'The entitlement conflicts with access already held (separation of duties)' },
  'request.duplicate': { status: 409, exit: 3, title: 'The beneficiary already holds or has asked for this entitlement' },
  'request.invalid_target_grant': { status: 422, exit: 3, title: 'An extension or scope change must name a live grant of the beneficiary' },
  'request.forbidden_on_behalf': { status: 403, exit: 3, title: 'The actor may not request access for that beneficiary' },
  'grant.not_found': { status: 404, exit: 4, title: 'No grant with that id' },
  'grant.already_ended': { status: 409, exit: 3, title: 'The grant has already ended' },
  'grant.not_started': { status: 409, exit: 3, title: 'The grant has not started yet' },
  'grant.exceeds_engagement_end': { status: 422, exit: 3, title: 'A grant may not end after its engagement' },
  'shared_account.checked_out': { status: 409, exit: 3, title: 'The shared account is checked out by someone else for this window; the details name who holds it and until when' },
  'shared_account.no_credential': { status: 409, exit: 3, title: 'A shared account is used only through the proxy: Tenure never hands out its credential' },
  'grant.credential_unavailable': { status: 409, exit: 3, title: 'A credential is handed out only for a live grant whose access the target has confirmed' },
  'grant.credential_unsupported': { status: 409, exit: 3, title: 'The system\'s connector does not hand out credentials (PostgreSQL roles does; elsewhere the target\'s own sign-in applies)' },
  'ssh.not_an_ssh_system': { status: 422, exit: 3, title: 'The grant is not on a system whose connector is ssh-ca, so no SSH certificate is issued for it' },
  'ssh.public_key_invalid': { status: 400, exit: 2, title: 'The text is not one OpenSSH public key of a supported type and size' },
  'ssh.ca_key_invalid': { status: 409, exit: 3, title: 'The SSH CA key the policy names cannot be used (missing, readable by others, encrypted, or not a key)' },
  'ssh.upstream_ca_is_user_ca': { status: 409, exit: 3, title: 'The SSH proxy\'s upstream CA (TENURE_SSH_PROXY_UPSTREAM_CA_KEY) is a user CA of the policy: hosts would accept people\'s own certificates, bypassing the proxy' },
  'audit.signing_key_missing': { status: 409, exit: 3, title: 'No audit signing key is configured' },
  'config.unsafe_in_production': { status: 409, exit: 3, title: 'With NODE_ENV=production, serve and worker refuse settings meant for tests: an http public URL, an http identity provider, failpoints, audit checkpoints off' },
  'audit.checkpoints_required': { status: 409, exit: 3, title: 'serve and worker on a PostgreSQL server need an audit signing key, unless TENURE_AUDIT_CHECKPOINTS=off says checkpoints are turned off on purpose' },
  'audit.signing_key_invalid': { status: 422, exit: 2, title: 'The audit signing key or a trusted key is not a readable Ed25519 PEM key' },
  'audit.nothing_to_acknowledge': { status: 409, exit: 3, title: 'Every checkpoint in the anchor agrees with the database: there is no restore to acknowledge' },
  'audit.chain_broken': { status: 409, exit: 3, title: 'The audit chain does not verify (run tenure audit verify); nothing is signed over it' },
  'provisioning.job_not_found': { status: 404, exit: 4, title: 'No provisioning job with that id' },
  'provisioning.job_not_awaiting': { status: 409, exit: 3, title: 'The provisioning job is not waiting for this (it is done, or in another state)' },
  'provisioning.nothing_held': { status: 409, exit: 3, title: 'No revocations are held by the brake on that system' },
  'provisioning.own_access_forbidden': { status: 403, exit: 3, title: 'Nobody confirms or resolves a provisioning task about their own access (or an identity they created or own)' },
  'provisioning.own_brake_forbidden': { status: 403, exit: 3, title: 'Whoever caused revocations held by the brake cannot release them' },
  'actor.not_a_person': { status: 403, exit: 3, title: 'Only a person approves, reviews, confirms or accepts: never a service account or automation' },
  'breakglass.not_capable': { status: 422, exit: 3, title: 'The entitlement is not marked break-glass capable by the policy' },
  'breakglass.not_allowed': { status: 403, exit: 3, title: 'The policy does not allow this identity to break the glass' },
  'breakglass.ttl_too_long': { status: 422, exit: 2, title: 'Break-glass access lasts at most the policy\'s maximum, and never more than 4 hours' },
  'breakglass.no_reviewer': { status: 409, exit: 3, title: 'Nobody but the user could review the break-glass access, so it is refused' },
  'breakglass.review_not_found': { status: 404, exit: 4, title: 'No break-glass review with that id' },
  'breakglass.already_reviewed': { status: 409, exit: 3, title: 'The break-glass review is already decided' },
  'breakglass.self_review_forbidden': { status: 403, exit: 3, title: 'Nobody reviews their own break-glass access' },
  'proxy_session.not_found': { status: 404, exit: 4, title: 'No proxy session with that id' },
  'proxy_session.recording_purged': { status: 410, exit: 4, title: 'The session\'s recording was deleted by retention; its digest stays in the audit chain' },
  'review.item_not_found': { status: 404, exit: 4, title: 'No review item with that id assigned to you' },
  'review.already_decided': { status: 409, exit: 3, title: 'The review item is already decided, defaulted or void' },
  'review.self_review_forbidden': { status: 403, exit: 3, title: 'Nobody reviews their own access' },
  'review.invalid_end': { status: 422, exit: 3, title: 'A shortened grant must end in the future and before its current end' },
  'review.renewal_pending': { status: 409, exit: 3, title: 'A renewal of this engagement already waits for the sponsor to revalidate its grants' },
  'engagement.sponsor_must_renew': { status: 403, exit: 3, title: 'Only the engagement\'s sponsor renews it: with no live grants there is nothing to route, the sponsor must ask' },
  'hr.unknown_source': { status: 422, exit: 2, title: 'The policy accepts HR events only from the sources it names' },
  'hr.event_id_reused': { status: 409, exit: 3, title: 'An HR event id was already received with different content' },
  'hr.batch_not_found': { status: 404, exit: 4, title: 'No held HR batch with that id' },
  'hr.batch_decided': { status: 409, exit: 3, title: 'The HR batch was already confirmed or discarded' },
  'hr.own_batch_forbidden': { status: 403, exit: 3, title: 'Whoever sent an HR batch the brake held cannot confirm or discard it' },
  'hr.csv_invalid': { status: 400, exit: 2, title: 'The HR file is not a CSV with the expected columns' },
  'identity.reassign_invalid': { status: 422, exit: 3, title: 'Ownership can only move to another active employee' },
  'credential.not_found': { status: 404, exit: 4, title: 'No credential with that id' },
  'credential.fingerprint_invalid': { status: 400, exit: 2, title: 'A credential is registered by its fingerprint (SHA256:… or sha256:<hex>), never by the secret' },
  'credential.fingerprint_taken': { status: 409, exit: 3, title: 'An active credential already has that fingerprint' },
  'credential.expiry_too_late': { status: 422, exit: 3, title: 'The credential would live longer than the policy\'s maximum age for its kind' },
  'credential.retired': { status: 409, exit: 3, title: 'The credential is retired' },
  'finding.not_found': { status: 404, exit: 4, title: 'No finding with that id' },
  'finding.acceptance_too_long': { status: 422, exit: 2, title: 'A finding is accepted for at most 180 days, and until a time in the future' },
  'finding.already_resolved': { status: 409, exit: 3, title: 'The finding is already resolved' },
  'finding.own_subject_forbidden': { status: 403, exit: 3, title: 'Nobody accepts or resolves a finding about themselves, their grant or credential, or an identity they created or own' },
  'reconcile.no_connector': { status: 409, exit: 3, title: 'The system has no connector that can list its access (manual systems cannot be reconciled)' },
  'reconcile.target_unreachable': { status: 502, exit: 1, title: 'The target system could not be read' },
  'webhook.not_found': { status: 404, exit: 4, title: 'No webhook subscription with that id' },
  'webhook.disabled': { status: 409, exit: 3, title: 'The webhook subscription was deleted; it has no secret to rotate' },
  'webhook.key_missing': { status: 409, exit: 3, title: 'No webhook key is configured (TENURE_WEBHOOK_KEY or TENURE_WEBHOOK_KEY_FILE)' },
  'webhook.key_invalid': { status: 422, exit: 2, title: 'A webhook key is not 32 bytes of base64, or its file holds none or cannot be read' },
  'webhook.key_duplicate': { status: 422, exit: 2, title: 'The webhook key ring lists the same key twice' },
  'webhook.key_unknown': { status: 409, exit: 3, title: 'A stored webhook secret or URL is encrypted under a key that is not in the webhook key ring' },
  'database.held': { status: 423, exit: 5, title: 'Another process holds the embedded database' },
  internal: { status: 500, exit: 1, title: 'Internal error' },
} as const satisfies Record<string, Entry>;

export type ErrorCode = keyof typeof ERRORS;

/** A refusal or failure with a stable code, the field at fault (if any) and a human message. */
export class TenureError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: { field?: string; details?: unknown } = {}) {
    super(message);
    this.name = 'TenureError';
    this.code = code;
    this.field = options.field;
    this.details = options.details;
  }

  get exitCode(): number {
    return ERRORS[this.code].exit;
  }

  get status(): number {
    return ERRORS[this.code].status;
  }
}

export const refuse = (code: ErrorCode, message: string, field?: string): never => {
  throw new TenureError(code, message, field === undefined ? {} : { field });
};
