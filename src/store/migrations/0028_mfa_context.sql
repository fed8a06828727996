ALTER TABLE "api_tokens" ADD COLUMN "mfa" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "mfa" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "ssh_certificates" ADD COLUMN "mfa" boolean DEFAULT false NOT NULL;