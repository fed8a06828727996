CREATE TABLE "mail_outbox" (
	"id" uuid PRIMARY KEY NOT NULL,
	"identity_id" uuid NOT NULL,
	"address" text,
	"event_key" text NOT NULL,
	"kind" text NOT NULL,
	"urgent" boolean NOT NULL,
	"subject" text NOT NULL,
	"text" text NOT NULL,
	"html" text NOT NULL,
	"status" text NOT NULL,
	"digest" boolean DEFAULT false NOT NULL,
	"batch_id" uuid,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"locked_until" timestamp with time zone,
	"last_error" text,
	"sent_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "mail_outbox_status_ck" CHECK ("mail_outbox"."status" in ('pending','sent','failed','no_address'))
);
--> statement-breakpoint
ALTER TABLE "identities" ADD COLUMN "mail_delivery" text DEFAULT 'immediate' NOT NULL;--> statement-breakpoint
ALTER TABLE "mail_outbox" ADD CONSTRAINT "mail_outbox_identity_id_identities_id_fk" FOREIGN KEY ("identity_id") REFERENCES "public"."identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "mail_outbox_event_uq" ON "mail_outbox" USING btree ("identity_id","event_key");--> statement-breakpoint
CREATE INDEX "mail_outbox_due_idx" ON "mail_outbox" USING btree ("next_attempt_at") WHERE "mail_outbox"."status" = 'pending';--> statement-breakpoint
ALTER TABLE "identities" ADD CONSTRAINT "identities_mail_delivery_ck" CHECK ("identities"."mail_delivery" in ('immediate','daily_digest'));--> statement-breakpoint
-- Hand-written: the mail dispatcher's cursor starts at the current head (earlier events are not mailed).
INSERT INTO feed_cursors (name, seq) SELECT 'mail', seq FROM audit_head WHERE id = 1 ON CONFLICT (name) DO NOTHING;
