ALTER TABLE "api_tokens" ADD COLUMN "mfa_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "mfa_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "ssh_certificates" ADD COLUMN "mfa_at" timestamp with time zone;