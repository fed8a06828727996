CREATE TABLE "hr_batches" (
	"id" uuid PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"channel" text NOT NULL,
	"events" integer NOT NULL,
	"would_suspend" integer NOT NULL,
	"population" integer NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone NOT NULL,
	"decided_by" uuid,
	"decided_at" timestamp with time zone,
	"reason" text,
	CONSTRAINT "hr_batches_status_ck" CHECK ("hr_batches"."status" in ('held','confirmed','discarded'))
);
--> statement-breakpoint
CREATE TABLE "hr_events" (
	"id" uuid PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"event_id" text NOT NULL,
	"employee_id" text NOT NULL,
	"type" text NOT NULL,
	"effective_at" timestamp with time zone NOT NULL,
	"attributes" jsonb NOT NULL,
	"digest" text NOT NULL,
	"status" text NOT NULL,
	"identity_id" uuid,
	"batch_id" uuid,
	"outcome" jsonb,
	"received_at" timestamp with time zone NOT NULL,
	"applied_at" timestamp with time zone,
	CONSTRAINT "hr_events_type_ck" CHECK ("hr_events"."type" in ('hire','change','leave')),
	CONSTRAINT "hr_events_status_ck" CHECK ("hr_events"."status" in ('scheduled','applied','superseded','held','discarded'))
);
--> statement-breakpoint
CREATE TABLE "hr_records" (
	"source" text NOT NULL,
	"employee_id" text NOT NULL,
	"identity_id" uuid NOT NULL,
	"attributes" jsonb NOT NULL,
	"effective_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "hr_records_source_employee_id_pk" PRIMARY KEY("source","employee_id")
);
--> statement-breakpoint
CREATE TABLE "review_campaigns" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"trigger" text NOT NULL,
	"policy_key" text,
	"scope" jsonb NOT NULL,
	"status" text NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"engagement_id" uuid,
	"renewal_ends_at" timestamp with time zone,
	"created_by" uuid,
	"created_at" timestamp with time zone NOT NULL,
	"closed_at" timestamp with time zone,
	CONSTRAINT "review_campaigns_status_ck" CHECK ("review_campaigns"."status" in ('open','closed'))
);
--> statement-breakpoint
CREATE TABLE "review_items" (
	"id" uuid PRIMARY KEY NOT NULL,
	"campaign_id" uuid NOT NULL,
	"grant_id" uuid NOT NULL,
	"identity_id" uuid NOT NULL,
	"reviewer_id" uuid NOT NULL,
	"status" text NOT NULL,
	"undecided" text NOT NULL,
	"evidence" jsonb NOT NULL,
	"decided_by" uuid,
	"decided_at" timestamp with time zone,
	"comment" text,
	"new_ends_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "review_items_status_ck" CHECK ("review_items"."status" in ('pending','kept','revoked','shortened','defaulted_keep','defaulted_revoke','void')),
	CONSTRAINT "review_items_undecided_ck" CHECK ("review_items"."undecided" in ('keep','revoke'))
);
--> statement-breakpoint
ALTER TABLE "identities" ADD COLUMN "employee_id" text;--> statement-breakpoint
ALTER TABLE "identities" ADD COLUMN "location" text;--> statement-breakpoint
ALTER TABLE "identities" ADD COLUMN "employment_class" text;--> statement-breakpoint
ALTER TABLE "identities" ADD COLUMN "hr_ends_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "hr_events" ADD CONSTRAINT "hr_events_identity_id_identities_id_fk" FOREIGN KEY ("identity_id") REFERENCES "public"."identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hr_events" ADD CONSTRAINT "hr_events_batch_id_hr_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."hr_batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hr_records" ADD CONSTRAINT "hr_records_identity_id_identities_id_fk" FOREIGN KEY ("identity_id") REFERENCES "public"."identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_campaigns" ADD CONSTRAINT "review_campaigns_engagement_id_engagements_id_fk" FOREIGN KEY ("engagement_id") REFERENCES "public"."engagements"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_items" ADD CONSTRAINT "review_items_campaign_id_review_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."review_campaigns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_items" ADD CONSTRAINT "review_items_grant_id_grants_id_fk" FOREIGN KEY ("grant_id") REFERENCES "public"."grants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_items" ADD CONSTRAINT "review_items_identity_id_identities_id_fk" FOREIGN KEY ("identity_id") REFERENCES "public"."identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_items" ADD CONSTRAINT "review_items_reviewer_id_identities_id_fk" FOREIGN KEY ("reviewer_id") REFERENCES "public"."identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "hr_events_source_event_uq" ON "hr_events" USING btree ("source","event_id");--> statement-breakpoint
CREATE INDEX "hr_events_due_idx" ON "hr_events" USING btree ("effective_at") WHERE "hr_events"."status" = 'scheduled';--> statement-breakpoint
CREATE INDEX "hr_events_batch_idx" ON "hr_events" USING btree ("batch_id");--> statement-breakpoint
CREATE INDEX "hr_events_identity_idx" ON "hr_events" USING btree ("identity_id","effective_at");--> statement-breakpoint
CREATE INDEX "hr_records_identity_idx" ON "hr_records" USING btree ("identity_id");--> statement-breakpoint
CREATE INDEX "review_campaigns_due_idx" ON "review_campaigns" USING btree ("due_at") WHERE "review_campaigns"."status" = 'open';--> statement-breakpoint
CREATE INDEX "review_campaigns_policy_idx" ON "review_campaigns" USING btree ("policy_key","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "review_items_campaign_grant_uq" ON "review_items" USING btree ("campaign_id","grant_id");--> statement-breakpoint
CREATE INDEX "review_items_reviewer_idx" ON "review_items" USING btree ("reviewer_id","status");--> statement-breakpoint
CREATE INDEX "requests_requester_idx" ON "access_requests" USING btree ("requester_id","status");--> statement-breakpoint
CREATE INDEX "engagements_sponsor_idx" ON "engagements" USING btree ("sponsor_id");--> statement-breakpoint
CREATE UNIQUE INDEX "identities_employee_id_uq" ON "identities" USING btree ("employee_id") WHERE "identities"."employee_id" is not null;--> statement-breakpoint
CREATE INDEX "identities_email_idx" ON "identities" USING btree (lower("email"));--> statement-breakpoint
CREATE INDEX "identities_owner_idx" ON "identities" USING btree ("owner_id");--> statement-breakpoint
CREATE INDEX "identities_hr_end_idx" ON "identities" USING btree ("hr_ends_at") WHERE "identities"."status" = 'active' and "identities"."hr_ends_at" is not null;--> statement-breakpoint
ALTER TABLE "grants" ADD CONSTRAINT "grants_origin_ck" CHECK ("grants"."origin" in ('birthright','break_glass') or ("grants"."origin" = 'request' and "grants"."request_id" is not null));