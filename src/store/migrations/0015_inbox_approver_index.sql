-- The inbox finds the pending stages that name the caller through this index, instead of loading
-- every pending request and filtering in memory.
CREATE INDEX IF NOT EXISTS "request_stages_pending_approver_idx" ON "request_stages" USING gin ("approver_ids" jsonb_path_ops) WHERE "request_stages"."status" = 'pending';
