/**
 * OpenSSH key revocation lists. sshd reads the file named by `RevokedKeys` at every public-key
 * login, and refuses every login when that file is missing or unreadable (it fails closed), so the
 * KRL always exists: with nothing revoked it is still a valid, empty KRL. It is replaced atomically
 * (written beside the target, then renamed over it) so sshd never reads half a file.
 *
 * Revocation by key id is the natural fit for Tenure: the key id is the grant id, so one `id:`
 * line revokes every certificate issued for that grant, including ones Tenure no longer holds.
 * `serial:` and `id:` entries belong to one CA in the KRL format, so during a CA rotation every
 * entry is written once per trusted CA, so that a certificate from the old CA is revoked too.
 * Serials are expected to be unique across CAs (one database sequence).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { TenureError } from '../domain/errors.js';
import { keygenOrRefuse, redactKeyMaterial, runKeygen, withPrivateDir, writePrivateFile } from './keygen.js';
import { checkPublicKey } from './keys.js';
import { checkKeyId, checkSerial } from './names.js';

export interface KrlRevocation {
  serial?: bigint | number;
  /** The grant id: revokes every certificate issued for the grant. */
  keyId?: string;
}

export interface BuildKrlRequest {
  /** Every CA public key sshd trusts (`type base64`), current and previous during a rotation. */
  caPublicKeys: readonly string[];
  /** The complete list: the KRL is rebuilt from it, never appended to. */
  revoked: readonly KrlRevocation[];
  /** Absolute path of the KRL sshd reads (`RevokedKeys`). */
  outPath: string;
}

const invalid = (field: string, message: string): TenureError => new TenureError('input.invalid', `${field}: ${message}`, { field });

/** The KRL specification lines (`serial: N`, `id: KEYID`), each once. */
const specificationLines = (revoked: readonly KrlRevocation[]): string[] => {
  const lines = revoked.flatMap((entry, index) => {
    const field = `revoked[${index}]`;
    if (entry.serial === undefined && entry.keyId === undefined) throw invalid(field, 'needs a serial or a keyId');
    return [
      ...(entry.serial === undefined ? [] : [`serial: ${checkSerial(entry.serial, `${field}.serial`).toString()}`]),
      ...(entry.keyId === undefined ? [] : [`id: ${checkKeyId(entry.keyId, `${field}.keyId`)}`]),
    ];
  });
  return [...new Set(lines)];
};

const writeKrl = async (tempPath: string, caPublicKeys: string[], lines: string[]): Promise<void> => {
  // Nothing revoked: a KRL with no entries needs no CA and is what sshd must read to let anyone in.
  if (lines.length === 0) {
    await keygenOrRefuse(['-k', '-f', tempPath], { code: 'internal', message: 'ssh-keygen could not write an empty KRL' });
    return;
  }
  await withPrivateDir(async (dir) => {
    const specPath = join(dir, 'revoked.spec');
    writePrivateFile(specPath, `${lines.join('\n')}\n`);
    for (const [index, caKey] of caPublicKeys.entries()) {
      const caPath = join(dir, `ca-${index}.pub`);
      writePrivateFile(caPath, `${caKey}\n`);
      // The first CA creates the KRL; -u merges each further CA's entries into it.
      await keygenOrRefuse(['-k', ...(index === 0 ? [] : ['-u']), '-f', tempPath, '-s', caPath, specPath], {
        code: 'internal', message: 'ssh-keygen could not write the KRL',
      });
    }
  });
};

/** Rebuilds the KRL at `outPath` from the complete revocation list, replacing it atomically. */
export const buildKrl = async (request: BuildKrlRequest): Promise<{ outPath: string; entries: number }> => {
  const { outPath } = request;
  if (!isAbsolute(outPath)) throw invalid('outPath', 'must be an absolute path');
  if (!existsSync(dirname(outPath))) throw invalid('outPath', `the directory ${dirname(outPath)} does not exist`);
  const lines = specificationLines(request.revoked);
  const caKeys: string[] = [];
  for (const key of request.caPublicKeys) caKeys.push((await checkPublicKey(key, 'caPublicKeys', 'ssh.ca_key_invalid')).line);
  const uniqueCaKeys = [...new Set(caKeys)];
  if (lines.length > 0 && uniqueCaKeys.length === 0) throw invalid('caPublicKeys', 'revoking by serial or key id needs the CA public key');

  // Same directory as the target, so the rename is atomic (never across file systems).
  const tempPath = join(dirname(outPath), `.${basename(outPath)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeKrl(tempPath, uniqueCaKeys, lines);
    // A KRL holds no secret, and sshd (or its privilege-separated child) must be able to read it.
    chmodSync(tempPath, 0o644);
    renameSync(tempPath, outPath);
  } finally {
    rmSync(tempPath, { force: true });
  }
  return { outPath, entries: lines.length };
};

/**
 * Whether the KRL revokes a certificate (given as its one-line text, or an absolute path to the
 * `-cert.pub` file): the read-back after a revocation, proof the file sshd reads contains it.
 */
export const isRevoked = async (krlPath: string, certificateOrPath: string): Promise<boolean> => {
  const query = (path: string) => runKeygen(['-Q', '-f', krlPath, path]);
  const text = certificateOrPath.trim();
  const result = isAbsolute(text) && !/\s/.test(text)
    ? await query(text)
    : await withPrivateDir(async (dir) => {
      const path = join(dir, 'key-cert.pub');
      writePrivateFile(path, `${text}\n`);
      return query(path);
    });
  if (result.exitCode === 0) return false;
  // Exit 1 means "revoked" or "error"; only the REVOKED verdict on stdout tells them apart.
  if (/: REVOKED$/m.test(result.stdout)) return true;
  throw new TenureError('internal', `the KRL ${krlPath} could not be checked (ssh-keygen: ${redactKeyMaterial(result.stderr) || `exit ${result.exitCode}`})`);
};
