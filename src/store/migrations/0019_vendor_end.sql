ALTER TABLE "identities" ADD COLUMN "operated_by_vendor_id" uuid;--> statement-breakpoint
ALTER TABLE "vendors" ADD COLUMN "end_applied_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "vendors" ADD COLUMN "expiry_notice_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "credentials" ADD COLUMN "retirement_due_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "identities" ADD CONSTRAINT "identities_operated_by_vendor_id_vendors_id_fk" FOREIGN KEY ("operated_by_vendor_id") REFERENCES "public"."vendors"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "identities_operated_by_vendor_idx" ON "identities" USING btree ("operated_by_vendor_id") WHERE "identities"."operated_by_vendor_id" is not null;--> statement-breakpoint
CREATE INDEX "vendors_due_idx" ON "vendors" USING btree ("contract_end") WHERE "vendors"."end_applied_at" is null;--> statement-breakpoint
ALTER TABLE "identities" ADD CONSTRAINT "identities_operated_by_vendor_ck" CHECK ("identities"."operated_by_vendor_id" is null or "identities"."kind" = 'service_account');