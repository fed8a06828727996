ALTER TABLE "access_requests" DROP CONSTRAINT "requests_status_ck";--> statement-breakpoint
ALTER TABLE "access_requests" ADD COLUMN "queue_seq" integer;--> statement-breakpoint
ALTER TABLE "access_requests" ADD CONSTRAINT "requests_status_ck" CHECK ("access_requests"."status" in ('pending','queued','approved','denied','cancelled','expired'));