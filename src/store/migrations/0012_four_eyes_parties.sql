ALTER TABLE "identities" ADD COLUMN "created_by" uuid;--> statement-breakpoint
ALTER TABLE "access_requests" ADD COLUMN "requester_issuer_id" uuid;--> statement-breakpoint
UPDATE "identities" AS i SET "created_by" = e."actor_id"
  FROM (SELECT DISTINCT ON ("subject_id") "subject_id", "actor_id" FROM "audit_events"
         WHERE "action" = 'identity.created' AND "subject_type" = 'identity' ORDER BY "subject_id", "seq") AS e
 WHERE e."subject_id" = i."id"::text AND e."actor_id" IS NOT NULL AND e."actor_id" <> i."id";
