-- Who is asked to decide each pending request now, one row per person: the approvers of its first
-- pending stage, less anyone who decided a stage of it (no one decides two stages of one request).
-- It exists so the inbox is one range scan of (identity_id, created_at) that stops at the page
-- limit, where matching approver_ids inside the stages made it read and sort every pending
-- request an approver appears in (100,000 for a system owner). created_at is the request's,
-- copied (it never changes) so the index alone gives the inbox its order.
CREATE TABLE IF NOT EXISTS "request_current_approvers" (
	"identity_id" uuid NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"request_id" uuid NOT NULL REFERENCES "access_requests"("id"),
	CONSTRAINT "request_current_approvers_pk" PRIMARY KEY ("identity_id", "created_at", "request_id")
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "request_current_approvers_request_idx" ON "request_current_approvers" ("request_id");
--> statement-breakpoint
-- Recomputes the rows of these requests from their stages. Triggers call it after every change to
-- a stage or to a request's status, in the same statement's transaction, so no code path that moves
-- a request along (create, approve, deny, cancel, expire, re-route) can leave the inbox behind.
CREATE OR REPLACE FUNCTION tenure_refresh_current_approvers(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM request_current_approvers WHERE request_id = ANY(ids);
  INSERT INTO request_current_approvers (identity_id, created_at, request_id)
  SELECT DISTINCT a.id::uuid, r.created_at, r.id
    FROM access_requests r
    CROSS JOIN LATERAL (SELECT s.approver_ids FROM request_stages s
                         WHERE s.request_id = r.id AND s.status = 'pending' ORDER BY s.position LIMIT 1) cur
    CROSS JOIN LATERAL jsonb_array_elements_text(cur.approver_ids) a(id)
   WHERE r.id = ANY(ids) AND r.status = 'pending'
     AND NOT EXISTS (SELECT 1 FROM request_stages d WHERE d.request_id = r.id AND d.decided_by = a.id::uuid);
END;
$$;
--> statement-breakpoint
-- Statement-level with transition tables: a worker expiring a batch of requests refreshes them in
-- one call, not one per row. (A trigger with transition tables takes one event, hence three.)
CREATE OR REPLACE FUNCTION tenure_stages_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM tenure_refresh_current_approvers(ARRAY(SELECT DISTINCT request_id FROM changed_stages));
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION tenure_request_status_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM tenure_refresh_current_approvers(ARRAY(
    SELECT n.id FROM changed_requests n JOIN previous_requests o ON o.id = n.id WHERE o.status IS DISTINCT FROM n.status));
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER request_stages_inserted_current_approvers AFTER INSERT ON request_stages
  REFERENCING NEW TABLE AS changed_stages FOR EACH STATEMENT EXECUTE FUNCTION tenure_stages_changed();
--> statement-breakpoint
CREATE TRIGGER request_stages_updated_current_approvers AFTER UPDATE ON request_stages
  REFERENCING NEW TABLE AS changed_stages FOR EACH STATEMENT EXECUTE FUNCTION tenure_stages_changed();
--> statement-breakpoint
CREATE TRIGGER access_requests_status_current_approvers AFTER UPDATE ON access_requests
  REFERENCING OLD TABLE AS previous_requests NEW TABLE AS changed_requests FOR EACH STATEMENT EXECUTE FUNCTION tenure_request_status_changed();
--> statement-breakpoint
SELECT tenure_refresh_current_approvers(ARRAY(SELECT id FROM access_requests WHERE status = 'pending'));
--> statement-breakpoint
-- The inbox no longer matches approver_ids; nothing else searched stages by approver.
DROP INDEX IF EXISTS "request_stages_pending_approver_idx";
