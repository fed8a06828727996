/**
 * Connector secrets are given by reference, never inline, so a policy file in version control
 * never holds one: `env:NAME` reads an environment variable, `file:/absolute/path` reads a file
 * (one trailing newline is dropped). No message here ever contains the secret or the raw setting,
 * since an inline secret put there by mistake must not end up in logs either.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { TenureError } from '../domain/errors.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const invalid = (field: string, message: string): TenureError =>
  new TenureError('input.invalid', `${field}: ${message}`, { field });

const fromEnv = (name: string, field: string, env: NodeJS.ProcessEnv): string => {
  if (!ENV_NAME.test(name)) throw invalid(field, 'env: must be followed by an environment variable name');
  const value = env[name];
  if (value === undefined || value === '') throw invalid(field, `the environment variable ${name} is not set`);
  return value;
};

const fromFile = (path: string, field: string): string => {
  if (!isAbsolute(path)) throw invalid(field, 'file: must be followed by an absolute path');
  let value: string;
  try {
    value = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw invalid(field, `the secret file ${path} cannot be read (${code})`);
  }
  if (value === '') throw invalid(field, `the secret file ${path} is empty`);
  return value;
};

/** Whether a setting has the form of a secret reference (it may still fail to resolve). */
export const isSecretRef = (setting: string): boolean => /^(env|file):./.test(setting);

/** Resolves a secret reference; `field` names the setting in errors (e.g. `systems.db.connector.url`). */
export const resolveSecretRef = (setting: string, field: string, env: NodeJS.ProcessEnv = process.env): string => {
  if (setting.startsWith('env:')) return fromEnv(setting.slice(4), field, env);
  if (setting.startsWith('file:')) return fromFile(setting.slice(5), field);
  throw invalid(field, 'must be a secret reference (env:NAME or file:/absolute/path), never the secret itself');
};
