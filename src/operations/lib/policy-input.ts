import { z } from 'zod';
import type { PolicySource } from '../../policy/load.js';

/**
 * A policy named by path (the CLI, reading the operator's files) or sent as files of text (the
 * API: a server never reads paths chosen by a caller).
 */
export const PolicyInput = z.union([
  z.object({ path: z.string().trim().min(1, 'must name a policy file or folder') }).strict(),
  z.object({
    files: z.array(z.object({
      name: z.string().trim().min(1, 'must name the file').max(200, 'must be at most 200 characters'),
      content: z.string().max(1_000_000, 'must be at most 1,000,000 characters'),
    }).strict()).min(1, 'must hold at least one policy file').max(100, 'must hold at most 100 files'),
  }).strict(),
], { error: 'must give either path or files' });

export const policySource = (input: z.output<typeof PolicyInput>): PolicySource => ('path' in input ? input.path : input.files);
