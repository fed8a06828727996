CREATE TABLE "credentials" (
	"id" uuid PRIMARY KEY NOT NULL,
	"identity_id" uuid NOT NULL,
	"system_id" uuid,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"fingerprint" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"last_rotated_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	"status" text NOT NULL,
	"registered_by" uuid NOT NULL,
	"retired_at" timestamp with time zone,
	CONSTRAINT "credentials_status_ck" CHECK ("credentials"."status" in ('active','retired'))
);
--> statement-breakpoint
ALTER TABLE "credentials" ADD CONSTRAINT "credentials_identity_id_identities_id_fk" FOREIGN KEY ("identity_id") REFERENCES "public"."identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credentials" ADD CONSTRAINT "credentials_system_id_systems_id_fk" FOREIGN KEY ("system_id") REFERENCES "public"."systems"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "credentials_fingerprint_uq" ON "credentials" USING btree ("fingerprint") WHERE "credentials"."status" = 'active';--> statement-breakpoint
CREATE INDEX "credentials_identity_idx" ON "credentials" USING btree ("identity_id","status");