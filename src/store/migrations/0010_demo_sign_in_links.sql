CREATE TABLE "demo_sign_in_links" (
	"id" uuid PRIMARY KEY NOT NULL,
	"identity_id" uuid NOT NULL,
	"secret_hash" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "demo_sign_in_links" ADD CONSTRAINT "demo_sign_in_links_identity_id_identities_id_fk" FOREIGN KEY ("identity_id") REFERENCES "public"."identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "demo_sign_in_links_secret_uq" ON "demo_sign_in_links" USING btree ("secret_hash");--> statement-breakpoint
CREATE INDEX "demo_sign_in_links_expires_idx" ON "demo_sign_in_links" USING btree ("expires_at");