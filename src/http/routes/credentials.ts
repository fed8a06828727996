import { z } from 'zod';
import { CREDENTIAL_KINDS, CREDENTIAL_STATUSES } from '../../domain/credentials.js';
import { listCredentials } from '../../operations/list-credentials.js';
import { registerCredential, Input as RegisterInput } from '../../operations/register-credential.js';
import { retireCredential, Input as RetireInput } from '../../operations/retire-credential.js';
import { rotateCredential, Input as RotateInput } from '../../operations/rotate-credential.js';
import { contextOf } from '../access.js';
import { idParam, isoDate, optionalDate, problems, refQuery } from '../schemas.js';
import { typed, type RouteModule } from './route.js';

const CredentialView = z.object({
  id: z.string(), identity: z.string(), system: z.string().nullable(), kind: z.enum(CREDENTIAL_KINDS), name: z.string(), fingerprint: z.string(),
  status: z.enum(CREDENTIAL_STATUSES), createdAt: isoDate, lastRotatedAt: isoDate, expiresAt: optionalDate, lastUsedAt: optionalDate,
});
const ListQuery = z.object({ identity: refQuery, status: z.enum(CREDENTIAL_STATUSES).optional() }).strict();

/** Credentials of non-human identities, by fingerprint only; see README "Non-human identities". */
export const credentialRoutes: RouteModule = (app, deps) => {
  const r = typed(app);
  const ctx = (request: Parameters<typeof contextOf>[0]) => contextOf(request, deps.store, deps.clock);
  r.get('/v1/credentials', {
    config: { access: { scope: 'read', permission: 'self' } },
    schema: { tags: ['credentials'], summary: 'Credentials (mine and my service accounts\'; all for IAM, security, auditors), never a secret',
      querystring: ListQuery, response: { 200: z.object({ items: z.array(CredentialView) }), ...problems } },
  }, async (request) => ({ items: await listCredentials(ctx(request), request.query) }));
  r.post('/v1/credentials', {
    config: { access: { scope: 'write', permission: 'self' } },
    schema: { tags: ['credentials'], summary: 'Register a credential by its fingerprint (its owner, or IAM)', body: RegisterInput,
      response: { 201: z.object({ id: z.string(), identity: z.string(), kind: z.string(), name: z.string(), expiresAt: optionalDate }), ...problems } },
  }, async (request, reply) => reply.code(201).send(await registerCredential(ctx(request), request.body)));
  r.post('/v1/credentials/:credential/rotate', {
    config: { access: { scope: 'write', permission: 'self' } },
    schema: { tags: ['credentials'], summary: 'Record a rotation: the new secret\'s fingerprint and expiry',
      params: idParam('credential', 'credential id'), body: RotateInput.omit({ credential: true }),
      response: { 200: z.object({ id: z.string(), lastRotatedAt: isoDate, expiresAt: optionalDate }), ...problems } },
  }, async (request) => rotateCredential(ctx(request), { ...request.body, credential: request.params.credential }));
  r.post('/v1/credentials/:credential/retire', {
    config: { access: { scope: 'write', permission: 'self' } },
    schema: { tags: ['credentials'], summary: 'Retire a credential revoked where it works; its findings close',
      params: idParam('credential', 'credential id'), body: RetireInput.omit({ credential: true }),
      response: { 200: z.object({ id: z.string(), status: z.literal('retired') }), ...problems } },
  }, async (request) => retireCredential(ctx(request), { ...request.body, credential: request.params.credential }));
};
