import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/store/schema.ts', './src/store/schema-service.ts', './src/store/schema-provisioning.ts', './src/store/schema-ssh.ts', './src/store/schema-break-glass.ts', './src/store/schema-credentials.ts', './src/store/schema-hr.ts', './src/store/schema-reviews.ts', './src/store/schema-web.ts', './src/store/schema-proxy.ts'],
  out: './src/store/migrations',
});
