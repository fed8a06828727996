import { createHash, sign, verify, type KeyObject } from 'node:crypto';

/**
 * Checkpoints in the C2SP `tlog-checkpoint` format, signed as a C2SP `signed-note`, so anyone can
 * check them with standard tooling (golang.org/x/mod/sumdb/note) without trusting Tenure's database:
 *
 *     <origin>\n<tree size>\n<base64 root hash>\n\n— <key name> <base64(key id ‖ signature)>\n
 *
 * The tree size is the chain's seq and the "root hash" is the hash chain's head at that seq (not a
 * Merkle root: Tenure's log is a hash chain, so it carries no inclusion or consistency proofs).
 */
export interface CheckpointNote {
  origin: string;
  size: number;
  /** The chain hash at `size`, in hex as the database stores it. */
  hash: string;
  /** The note exactly as written: body, blank line, signature lines. */
  text: string;
}

/** The signature algorithm byte of Ed25519 in signed-note key ids and verifier keys. */
const ED25519 = 0x01;
const EM_DASH = '\u2014';
const SIGNATURE_LINE = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/u;

/** Key names are non-empty and free of whitespace and '+' (the verifier-key separator). */
export const validKeyName = (name: string): boolean => name.length > 0 && !/[\s+]/u.test(name);

const rawPublicKey = (key: KeyObject): Buffer => {
  const spki = key.export({ type: 'spki', format: 'der' });
  return spki.subarray(spki.length - 32);
};

/** signed-note key id: the first 4 bytes of SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key). */
export const noteKeyId = (name: string, key: KeyObject): Buffer =>
  createHash('sha256').update(name, 'utf8').update(Buffer.from([0x0a, ED25519])).update(rawPublicKey(key)).digest().subarray(0, 4);

/** The vkey form `<name>+<hex key id>+<base64(0x01 ‖ public key)>` that note verifiers take. */
export const verifierKey = (name: string, key: KeyObject): string =>
  `${name}+${noteKeyId(name, key).toString('hex')}+${Buffer.concat([Buffer.from([ED25519]), rawPublicKey(key)]).toString('base64')}`;

export const checkpointBody = (origin: string, size: number, hashHex: string): string =>
  `${origin}\n${size}\n${Buffer.from(hashHex, 'hex').toString('base64')}\n`;

/** A signed note: `text` (ending in a newline), a blank line, and one Ed25519 signature line by `name`. */
export const signNote = (text: string, name: string, privateKey: KeyObject, publicKey: KeyObject): string => {
  if (!validKeyName(name)) throw new Error(`key name '${name}' may not be empty or contain spaces or '+'`);
  const signature = sign(null, Buffer.from(text, 'utf8'), privateKey);
  return `${text}\n${EM_DASH} ${name} ${Buffer.concat([noteKeyId(name, publicKey), signature]).toString('base64')}\n`;
};

/** Signs the checkpoint body; the key name is the origin, as the C2SP checkpoint spec recommends. */
export const signCheckpointNote = (origin: string, size: number, hashHex: string, privateKey: KeyObject, publicKey: KeyObject): CheckpointNote =>
  ({ origin, size, hash: hashHex, text: signNote(checkpointBody(origin, size, hashHex), origin, privateKey, publicKey) });

/** The note in `text`, or why it is not a well-formed checkpoint. */
export const parseCheckpointNote = (text: string): CheckpointNote | string => {
  const split = text.indexOf('\n\n');
  if (split < 0) return 'not a signed note: no blank line before the signatures';
  const lines = text.slice(0, split + 1).split('\n');
  const [origin, sizeText, rootB64] = lines;
  if (lines.length < 4 || !origin || !sizeText || !rootB64) return 'not a checkpoint: origin, size and root hash lines expected';
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) return `not a checkpoint: tree size '${sizeText}' is not a decimal number`;
  const root = Buffer.from(rootB64, 'base64');
  if (root.length !== 32 || root.toString('base64') !== rootB64) return 'not a checkpoint: the root hash is not 32 bytes of base64';
  return { origin, size: Number(sizeText), hash: root.toString('hex'), text };
};

/**
 * Whether one of the note's signature lines, under the key `name`, was made by one of the
 * `trusted` keys. Lines by unknown keys are ignored, as signed-note verifiers do (a witness may
 * cosign the same note).
 */
export const noteSignedBy = (note: string, name: string, trusted: Iterable<KeyObject>): boolean => {
  const split = note.indexOf('\n\n');
  if (split < 0) return false;
  const body = Buffer.from(note.slice(0, split + 1), 'utf8');
  const keys = [...trusted].map((key) => ({ key, id: noteKeyId(name, key) }));
  for (const line of note.slice(split + 2).split('\n')) {
    const match = SIGNATURE_LINE.exec(line);
    if (match?.[1] !== name) continue;
    const blob = Buffer.from(match[2]!, 'base64');
    if (blob.length !== 68) continue;
    for (const { key, id } of keys) {
      if (!blob.subarray(0, 4).equals(id)) continue;
      try { if (verify(null, body, key, blob.subarray(4))) return true; } catch { /* a malformed signature is simply not a valid one */ }
    }
  }
  return false;
};
