import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { checkpointBody, noteKeyId, noteSignedBy, parseCheckpointNote, signCheckpointNote, signNote, verifierKey } from '../src/audit/note.js';

/** The key pair of golang.org/x/mod/sumdb/note's own tests: PRIVATE+KEY+PeterNeumann+c74f20a3+AYEK… (0x01 ‖ seed). */
const PETER_SEED = Buffer.from('AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz', 'base64').subarray(1);
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_NOTE = `${PETER_TEXT}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

const peter = () => {
  const privateKey = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), PETER_SEED]), format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
};

describe('checkpoints as C2SP signed notes', () => {
  it('key id, verifier key and signature line match the sumdb/note reference vector byte for byte', () => {
    const { privateKey, publicKey } = peter();
    assert.equal(noteKeyId('PeterNeumann', publicKey).toString('hex'), 'c74f20a3');
    assert.equal(verifierKey('PeterNeumann', publicKey), PETER_VKEY);
    assert.equal(signNote(PETER_TEXT, 'PeterNeumann', privateKey, publicKey), PETER_NOTE);
    assert.equal(noteSignedBy(PETER_NOTE, 'PeterNeumann', [publicKey]), true);
  });

  it('a checkpoint is origin, decimal size and base64 root hash, and verifies only under its key and name', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const hash = 'ab'.repeat(32);
    const note = signCheckpointNote('tenure.example/audit', 42, hash, privateKey, publicKey);
    assert.equal(note.text.split('\n\n')[0] + '\n', checkpointBody('tenure.example/audit', 42, hash));
    assert.equal(checkpointBody('tenure.example/audit', 42, hash), `tenure.example/audit\n42\n${Buffer.from(hash, 'hex').toString('base64')}\n`);
    assert.deepEqual(parseCheckpointNote(note.text), note);
    assert.equal(noteSignedBy(note.text, note.origin, [publicKey]), true);
    assert.equal(noteSignedBy(note.text, note.origin, [generateKeyPairSync('ed25519').publicKey]), false, 'another key');
    assert.equal(noteSignedBy(note.text.replace('\n42\n', '\n43\n'), note.origin, [publicKey]), false, 'a changed size');
    assert.equal(noteSignedBy(note.text.replace(' tenure.example/audit ', ' other/audit '), 'other/audit', [publicKey]), false, 'a renamed key');
    assert.match(String(parseCheckpointNote('o\n042\nAAAA\n\n')), /tree size '042'/);
    assert.throws(() => signCheckpointNote('has space', 1, hash, privateKey, publicKey), /may not be empty or contain spaces/);
  });
});
