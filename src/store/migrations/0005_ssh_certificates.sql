CREATE SEQUENCE "public"."ssh_certificate_serials" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
CREATE TABLE "ssh_certificates" (
	"id" uuid PRIMARY KEY NOT NULL,
	"serial" bigint NOT NULL,
	"grant_id" uuid NOT NULL,
	"identity_id" uuid NOT NULL,
	"system_id" uuid NOT NULL,
	"key_id" text NOT NULL,
	"principals" jsonb NOT NULL,
	"public_key_fingerprint" text NOT NULL,
	"ca_fingerprint" text NOT NULL,
	"valid_after" timestamp with time zone NOT NULL,
	"valid_before" timestamp with time zone NOT NULL,
	"issued_at" timestamp with time zone NOT NULL,
	"issued_by" uuid NOT NULL
);
--> statement-breakpoint
ALTER TABLE "ssh_certificates" ADD CONSTRAINT "ssh_certificates_grant_id_grants_id_fk" FOREIGN KEY ("grant_id") REFERENCES "public"."grants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ssh_certificates" ADD CONSTRAINT "ssh_certificates_identity_id_identities_id_fk" FOREIGN KEY ("identity_id") REFERENCES "public"."identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ssh_certificates" ADD CONSTRAINT "ssh_certificates_system_id_systems_id_fk" FOREIGN KEY ("system_id") REFERENCES "public"."systems"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "ssh_certificates_serial_uq" ON "ssh_certificates" USING btree ("serial");--> statement-breakpoint
CREATE INDEX "ssh_certificates_grant_idx" ON "ssh_certificates" USING btree ("grant_id");--> statement-breakpoint
CREATE INDEX "ssh_certificates_valid_before_idx" ON "ssh_certificates" USING btree ("valid_before");