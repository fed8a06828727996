CREATE TABLE "break_glass_reviews" (
	"id" uuid PRIMARY KEY NOT NULL,
	"grant_id" uuid NOT NULL,
	"identity_id" uuid NOT NULL,
	"reviewer_id" uuid NOT NULL,
	"incident" text NOT NULL,
	"reason" text NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"status" text NOT NULL,
	"decided_by" uuid,
	"decided_at" timestamp with time zone,
	"comment" text,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "break_glass_reviews_status_ck" CHECK ("break_glass_reviews"."status" in ('pending','appropriate','inappropriate'))
);
--> statement-breakpoint
ALTER TABLE "findings" DROP CONSTRAINT "findings_status_ck";--> statement-breakpoint
DROP INDEX "findings_open_key_uq";--> statement-breakpoint
ALTER TABLE "findings" ADD COLUMN "accepted_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "break_glass_reviews" ADD CONSTRAINT "break_glass_reviews_grant_id_grants_id_fk" FOREIGN KEY ("grant_id") REFERENCES "public"."grants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "break_glass_reviews" ADD CONSTRAINT "break_glass_reviews_identity_id_identities_id_fk" FOREIGN KEY ("identity_id") REFERENCES "public"."identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "break_glass_reviews" ADD CONSTRAINT "break_glass_reviews_reviewer_id_identities_id_fk" FOREIGN KEY ("reviewer_id") REFERENCES "public"."identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "break_glass_reviews_reviewer_idx" ON "break_glass_reviews" USING btree ("reviewer_id","status");--> statement-breakpoint
CREATE INDEX "break_glass_reviews_due_idx" ON "break_glass_reviews" USING btree ("due_at") WHERE "break_glass_reviews"."status" = 'pending';--> statement-breakpoint
CREATE UNIQUE INDEX "findings_open_key_uq" ON "findings" USING btree ("key") WHERE "findings"."status" in ('open','accepted');--> statement-breakpoint
ALTER TABLE "findings" ADD CONSTRAINT "findings_status_ck" CHECK ("findings"."status" in ('open','accepted','resolved'));