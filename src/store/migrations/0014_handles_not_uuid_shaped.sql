-- A reference is an id only when it is UUID-shaped, so no handle may be one: a handle equal to
-- another identity's id made "suspend <id>" suspend that twin. Handles already UUID-shaped (made
-- before this rule, through the API or from an HR e-mail whose local part is a UUID) are renamed
-- `renamed-<handle>` rather than left under a NOT VALID constraint: PostgreSQL checks even a NOT
-- VALID constraint on every UPDATE of a row, so such an identity could then never be suspended or
-- ended. The constraint is therefore added valid. A renamed identity keeps its id, grants and
-- tokens; its accounts in targets carry the old name and show as drift at the next reconciliation.
UPDATE "identities" SET "handle" = 'renamed-' || "handle"
 WHERE "handle" ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';--> statement-breakpoint
ALTER TABLE "identities" ADD CONSTRAINT "identities_handle_not_uuid_ck"
  CHECK ("handle" !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$');
