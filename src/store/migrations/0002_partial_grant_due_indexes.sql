DROP INDEX "grants_due_idx";--> statement-breakpoint
DROP INDEX "grants_start_idx";--> statement-breakpoint
CREATE INDEX "grants_due_idx" ON "grants" USING btree ("ends_at") WHERE "grants"."status" in ('scheduled','active');--> statement-breakpoint
CREATE INDEX "grants_start_idx" ON "grants" USING btree ("starts_at") WHERE "grants"."status" = 'scheduled';