import { z } from 'zod';
import { signSshCertificate, Input as SignInput } from '../../operations/sign-ssh-certificate.js';
import { sshPrincipals, Input as PrincipalsInput } from '../../operations/ssh-principals.js';
import { sshAuthorizedKeys, Input as AuthorizedKeysInput } from '../../operations/ssh-authorized-keys.js';
import { contextOf } from '../access.js';
import { isoDate, optionalDate, problems } from '../schemas.js';
import { typed, type RouteModule } from './route.js';

const Certificate = z.object({
  certificate: z.string().describe('the OpenSSH certificate line, to save as <key>-cert.pub'),
  serial: z.string().regex(/^\d+$/).describe('64-bit serial, as decimal text'),
  validAfter: isoDate, validBefore: isoDate,
  principals: z.array(z.string()), keyId: z.string().describe('the grant id'),
  mfa: z.boolean().describe('the session or token that asked stood on your own MFA sign-in; the SSH proxy presents it as the mfa context'),
  mfaAt: optionalDate.describe('when that MFA was performed, when known: an entitlement\'s mfa_max_age measures it'),
});

/** The SSH certificate authority (docs/connectors-ssh.md): certificates for one's own grants, and sshd's principals question. */
export const sshRoutes: RouteModule = (app, deps) => {
  const r = typed(app);
  const ctx = (request: Parameters<typeof contextOf>[0]) => contextOf(request, deps.store, deps.clock);
  r.post('/v1/ssh/certificates', {
    config: { access: { scope: 'write', permission: 'self' } },
    schema: { tags: ['ssh'], summary: 'Sign my public key for one of my active grants on an ssh-ca system (hours, never past the grant\'s end)',
      body: SignInput, response: { 201: Certificate, ...problems } },
  }, async (request, reply) => reply.code(201).send(await signSshCertificate(ctx(request), request.body)));
  r.get('/v1/ssh/principals', {
    config: { access: { scope: 'check', permission: 'ssh.principals' } },
    schema: { tags: ['ssh'], summary: 'The principals sshd may accept for this account and certificate key id now (AuthorizedPrincipalsCommand)',
      querystring: PrincipalsInput, response: { 200: z.object({ principals: z.array(z.string()) }), ...problems } },
  }, async (request) => sshPrincipals(ctx(request), request.query));
  r.post('/v1/ssh/authorized-keys', {
    config: { access: { scope: 'check', permission: 'ssh.principals' } },
    schema: { tags: ['ssh'], summary: 'The keys a proxied host\'s account accepts (the proxy\'s); an offer of another key, or from elsewhere, opens a session_outside_proxy finding (AuthorizedKeysCommand)',
      body: AuthorizedKeysInput, response: { 200: z.object({ keys: z.array(z.string()) }), ...problems } },
  }, async (request) => sshAuthorizedKeys(ctx(request), request.body));
};
