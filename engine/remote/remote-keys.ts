/**
 * Ed25519 keys of the remote tier (node:crypto): `strata remote keygen DIR` writes a private key
 * (PEM, mode 0600) and its public key; a key id is the first 16 hex digits of the SHA-256 of the
 * public key's DER form, so a record names the key that signed it without carrying it.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StrataError } from '../../shared/errors.js';

export const PRIVATE_KEY_FILE = 'strata-remote.key';
export const PUBLIC_KEY_FILE = 'strata-remote.pub';

export interface SigningKey {
  readonly id: string;
  readonly privateKey: crypto.KeyObject;
  readonly publicKey: crypto.KeyObject;
}

export function keyIdOf(publicKey: crypto.KeyObject): string {
  return crypto.createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/** Writes DIR/strata-remote.key (0600) and DIR/strata-remote.pub; refuses to overwrite a key. */
export function generateKeyPair(dir: string): { privateFile: string; publicFile: string; id: string } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  fs.mkdirSync(dir, { recursive: true });
  const privateFile = path.join(dir, PRIVATE_KEY_FILE);
  const publicFile = path.join(dir, PUBLIC_KEY_FILE);
  if (fs.existsSync(privateFile)) throw new StrataError('EINVALIDOPTION', `${privateFile} exists; not overwritten`, privateFile);
  fs.writeFileSync(privateFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  fs.writeFileSync(publicFile, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
  return { privateFile, publicFile, id: keyIdOf(publicKey) };
}

export function loadSigningKey(file: string): SigningKey {
  const privateKey = readKey(file, (pem) => crypto.createPrivateKey(pem));
  const publicKey = crypto.createPublicKey(privateKey);
  return { id: keyIdOf(publicKey), privateKey, publicKey };
}

/** A public key file (or a private one: its public half). */
export function loadPublicKey(file: string): { id: string; publicKey: crypto.KeyObject } {
  const publicKey = readKey(file, (pem) => crypto.createPublicKey(pem));
  return { id: keyIdOf(publicKey), publicKey };
}

function readKey(file: string, parse: (pem: string) => crypto.KeyObject): crypto.KeyObject {
  let key: crypto.KeyObject;
  try {
    key = parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new StrataError('EINVALIDOPTION', `cannot read an Ed25519 key from ${file}: ${(error as Error).message}`, file, { cause: error });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new StrataError('EINVALIDOPTION', `${file} holds a ${key.asymmetricKeyType} key; Ed25519 expected`, file);
  return key;
}
