/**
 * SSH certificate authority connector (`ssh-ca`). Access to an SSH server is a short-lived
 * certificate Tenure signs on demand (`tenure ssh sign`, see operations/sign-ssh-certificate.ts),
 * not an account, so there is nothing to create when a grant starts: provision does nothing. When
 * a grant ends, its id (every certificate's key id) goes into the key revocation list sshd reads
 * (`RevokedKeys`), written once per trusted CA so a rotation leaves no gap. See docs/connectors-ssh.md.
 *
 * The connector knows nothing of the store: the KRL is rebuilt from the revocation list it keeps
 * beside the KRL (ssh/revocation-list.ts). listAccess has nothing to list (Tenure keeps no
 * certificates, and a certificate is no account in the target), so the read-back after a
 * revocation goes through `holds`, which asks the real KRL file about a certificate with the key id.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import type { ConnectorSpec } from '../domain/provisioning.js';
import { TenureError } from '../domain/errors.js';
import { fingerprintOf, isSafePrincipal, readCaPublicKey } from '../ssh/certificate-authority.js';
import { checkPublicKey } from '../ssh/keys.js';
import { checkKeyIdRevoked } from '../ssh/revocation-check.js';
import { changeRevocations, readRevocationList } from '../ssh/revocation-list.js';
import type { AccessEntry, CheckResult, Connector, ConnectorGrant, ConnectorOutcome } from './contract.js';

export type SshCaSpec = Extract<ConnectorSpec, { type: 'ssh-ca' }>;

export interface SshCaConfig {
  /** Absolute path of the CA private key (mode 0600, no passphrase); only ssh-keygen opens it. */
  caKeyPath: string;
  /** Absolute paths of the previous CAs' public keys, still trusted by sshd during a rotation. */
  previousCaKeyPaths: string[];
  /** The KRL sshd reads (`RevokedKeys`). */
  krlPath: string;
  /** The entitlements' targets: the principals certificates are issued for. */
  principals: string[];
}

/** The path in a `file:/absolute/path` setting; the policy schema already refused anything else. */
const fileRefPath = (ref: string, field: string): string => {
  const path = ref.startsWith('file:') ? ref.slice('file:'.length) : '';
  if (!isAbsolute(path)) throw new TenureError('ssh.ca_key_invalid', `${field}: must be file:/absolute/path`, { field });
  return path;
};

export const sshCaConfigOf = (spec: SshCaSpec, principals: string[]): SshCaConfig => ({
  caKeyPath: fileRefPath(spec.ca_key, 'ca_key'),
  previousCaKeyPaths: spec.previous_ca_keys.map((ref, index) => fileRefPath(ref, `previous_ca_keys[${index}]`)),
  krlPath: spec.krl_path,
  principals,
});

/** A previous CA's public key, `type base64`, read from its .pub file (public: Tenure may read it). */
const readPreviousCaKey = async (path: string, index: number): Promise<string> => {
  const field = `previous_ca_keys[${index}]`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new TenureError('ssh.ca_key_invalid', `${field}: ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`, { field });
  }
  return (await checkPublicKey(text.trim().split('\n')[0] ?? '', field, 'ssh.ca_key_invalid')).line;
};

export class SshCaConnector implements Connector {
  readonly kind = 'ssh-ca';

  constructor(private readonly config: SshCaConfig) {}

  private async previousCaKeys(): Promise<string[]> {
    const keys: string[] = [];
    for (const [index, path] of this.config.previousCaKeyPaths.entries()) keys.push(await readPreviousCaKey(path, index));
    return keys;
  }

  /** Every CA sshd trusts, the current one first: each KRL entry is written for each. */
  private async trustedCaKeys(): Promise<string[]> {
    return [await readCaPublicKey(this.config.caKeyPath), ...(await this.previousCaKeys())];
  }

  /**
   * Certificates are issued on demand, so a starting grant needs nothing in the target. The one
   * thing done here: a KRL that does not exist yet is written (empty, or from the list), since
   * sshd refuses every login while its RevokedKeys file is missing.
   */
  async provision(_grant: ConnectorGrant): Promise<ConnectorOutcome> {
    if (!existsSync(this.config.krlPath)) await changeRevocations({ krlPath: this.config.krlPath, caPublicKeys: await this.trustedCaKeys() });
    return { changed: false };
  }

  /** Adds the grant id to the revocation list and rebuilds the KRL; rebuilt on a retry too, in case a crash came between the two. */
  async deprovision(grant: ConnectorGrant): Promise<ConnectorOutcome> {
    const { added } = await changeRevocations({ krlPath: this.config.krlPath, caPublicKeys: await this.trustedCaKeys(), add: [grant.grantId] });
    return { changed: added.length > 0 };
  }

  /** A certificate is no account in the target and Tenure keeps none: there is nothing to list (see `holds`). */
  async listAccess(): Promise<AccessEntry[]> {
    return [];
  }

  /** Whether a certificate with the grant's key id, from any trusted CA, would still pass the KRL sshd reads. */
  async holds(grant: ConnectorGrant): Promise<boolean> {
    const verdict = await checkKeyIdRevoked({
      krlPath: this.config.krlPath, caKeyPath: this.config.caKeyPath, otherCaPublicKeys: await this.previousCaKeys(), keyId: grant.grantId,
    });
    return !verdict.revoked;
  }

  async check(): Promise<CheckResult> {
    const problems: string[] = [];
    const facts: string[] = [];
    const attempt = async (work: () => Promise<void>) => {
      try { await work(); } catch (error) { problems.push(error instanceof Error ? error.message : String(error)); }
    };
    await attempt(async () => { facts.push(`CA ${await fingerprintOf(await readCaPublicKey(this.config.caKeyPath))}`); });
    await attempt(async () => { facts.push(`${(await this.previousCaKeys()).length} previous CA key(s) still trusted`); });
    await attempt(async () => {
      try {
        accessSync(dirname(this.config.krlPath), constants.W_OK);
      } catch {
        throw new Error(`krl_path: Tenure cannot write in ${dirname(this.config.krlPath)}`);
      }
      if (!existsSync(this.config.krlPath)) throw new Error(`krl_path: ${this.config.krlPath} does not exist yet, and sshd refuses every login without it`);
      facts.push(`KRL ${this.config.krlPath} with ${readRevocationList(this.config.krlPath).length} revoked grant(s)`);
    });
    const unsafe = this.config.principals.filter((name) => !isSafePrincipal(name));
    if (unsafe.length > 0) problems.push(`targets ${unsafe.map((n) => JSON.stringify(n.slice(0, 60))).join(', ')} are not safe principals`);
    return problems.length === 0 ? { ok: true, detail: facts.join('; ') } : { ok: false, detail: problems.join('; ') };
  }
}
