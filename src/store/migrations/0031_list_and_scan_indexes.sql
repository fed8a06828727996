CREATE INDEX "requests_created_idx" ON "access_requests" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "grants_created_idx" ON "grants" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "grants_entitlement_live_idx" ON "grants" USING btree ("entitlement_id") WHERE "grants"."status" in ('scheduled','active');--> statement-breakpoint
CREATE INDEX "findings_opened_idx" ON "findings" USING btree ("opened_at","id");