-- A service account has one vendor link, its operator: the vendor whose contract end suspends it.
-- One created with `vendor` (before that meant operated-by) was linked to the vendor yet missed by
-- its end, which reads only operated_by_vendor_id. Its vendor_id moves there first, unless an
-- operator is already recorded (that link is the one the end acted on, so it stands), and only then
-- is the constraint added, valid. vendor_id has no foreign key, but vendors are never deleted, so
-- every moved id names a vendor. An account moved onto a vendor whose end was already carried out
-- keeps its status: the move is not an end, and the vendor page lists it for IAM to act on.
UPDATE "identities" SET "operated_by_vendor_id" = coalesce("operated_by_vendor_id", "vendor_id"), "vendor_id" = NULL
 WHERE "kind" = 'service_account' AND "vendor_id" IS NOT NULL;--> statement-breakpoint
ALTER TABLE "identities" ADD CONSTRAINT "identities_service_account_vendor_ck" CHECK ("identities"."vendor_id" is null or "identities"."kind" <> 'service_account');
