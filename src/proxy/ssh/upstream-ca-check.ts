/**
 * The upstream CA must not be a user CA. Hosts trust the upstream CA for the proxied accounts; if it
 * were also the CA `tenure ssh sign` certifies people's keys with, a person's own certificate would
 * be trusted by the hosts directly, and the proxy (its recording, its end at the grant's end) would
 * be one path of two. Checked when the proxy starts, against every user CA Tenure knows of: the
 * `ca_key` (and `previous_ca_keys`) of each ssh-ca system in the applied policy, and the CA of every
 * certificate Tenure has issued to a person (in case that key file is not readable from here).
 * Then the proxy registers its upstream CA (ssh_upstream_cas), so that a policy applied later that
 * names it as a `ca_key` cannot certify anyone with it either (upstreamCaSince, asked at every signing).
 */
import { eq } from 'drizzle-orm';
import { TenureError } from '../../domain/errors.js';
import { findAppliedPolicy } from '../../policy/applied.js';
import { fingerprintOf, readCaPublicKey } from '../../ssh/keys.js';
import type { Executor } from '../../store/database.js';
import { registerUpstreamCa } from '../../store/queries/ssh-upstream-cas.js';
import { sshCertificates } from '../../store/schema-ssh.js';

const SETTING = 'TENURE_SSH_PROXY_UPSTREAM_CA_KEY';

/** Every user CA key file the applied policy names, with the setting that names it. */
const userCaFiles = async (exec: Executor): Promise<{ setting: string; path: string }[]> => {
  const systems = (await findAppliedPolicy(exec))?.provisioning?.systems ?? {};
  return Object.entries(systems).flatMap(([key, system]) => {
    if (system.connector.type !== 'ssh-ca') return [];
    const { ca_key: current, previous_ca_keys: previous } = system.connector;
    return [{ setting: `systems.${key}.connector.ca_key`, path: current },
      ...previous.map((path, i) => ({ setting: `systems.${key}.connector.previous_ca_keys[${i}]`, path }))]
      .map((f) => ({ ...f, path: f.path.slice('file:'.length) }));
  });
};

/** A key file this process cannot read is left to the certificates' record: it may live on the signing host only. */
const fingerprintOrNull = (path: string): Promise<string | null> => fingerprintOf(path).catch(() => null);

const refusal = (upstreamPath: string, what: string): TenureError => new TenureError('ssh.upstream_ca_is_user_ca',
  `${SETTING} (${upstreamPath}) is the same key as ${what}, which certifies people's keys (tenure ssh sign): the hosts would then `
  + 'accept a person\'s own certificate directly, bypassing the proxy. Make a separate upstream CA (ssh-keygen -t ed25519 -N \'\' '
  + '-f /etc/tenure/ssh-upstream-ca) and have the hosts trust it alone', { field: SETTING });

/** Checks the upstream CA is no user CA, then registers it, so that it never becomes one later. */
export const refuseUserCaAsUpstream = async (exec: Executor, upstreamCaKeyPath: string, now: Date): Promise<void> => {
  const upstream = await fingerprintOf(await readCaPublicKey(upstreamCaKeyPath));
  for (const file of await userCaFiles(exec)) {
    if (await fingerprintOrNull(file.path) === upstream) throw refusal(upstreamCaKeyPath, `the user CA ${file.setting} (${file.path})`);
  }
  const [issued] = await exec.select({ id: sshCertificates.id }).from(sshCertificates).where(eq(sshCertificates.caFingerprint, upstream)).limit(1);
  if (issued) throw refusal(upstreamCaKeyPath, `the CA that signed certificates Tenure issued to people (${upstream})`);
  await registerUpstreamCa(exec, upstream, now);
};
