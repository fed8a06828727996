import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AppDeps } from '../app.js';

/** A group of routes; each registers its own, declaring access and request and response schemas. */
export type RouteModule = (app: FastifyInstance, deps: AppDeps) => void | Promise<void>;

export const typed = (app: FastifyInstance) => app.withTypeProvider<ZodTypeProvider>();
