CREATE TABLE "findings" (
	"id" uuid PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"severity" text NOT NULL,
	"key" text NOT NULL,
	"status" text NOT NULL,
	"system_id" uuid,
	"identity_id" uuid,
	"grant_id" uuid,
	"job_id" uuid,
	"summary" text NOT NULL,
	"evidence" jsonb NOT NULL,
	"owner_id" uuid,
	"due_at" timestamp with time zone,
	"opened_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"resolved_at" timestamp with time zone,
	"resolved_by" uuid,
	"resolution" text,
	CONSTRAINT "findings_status_ck" CHECK ("findings"."status" in ('open','resolved')),
	CONSTRAINT "findings_severity_ck" CHECK ("findings"."severity" in ('low','medium','high','critical'))
);
--> statement-breakpoint
CREATE TABLE "provisioning_jobs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigserial NOT NULL,
	"grant_id" uuid NOT NULL,
	"identity_id" uuid NOT NULL,
	"system_id" uuid NOT NULL,
	"action" text NOT NULL,
	"state" text DEFAULT 'queued' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lease_until" timestamp with time zone,
	"last_error" text,
	"brake_released" boolean DEFAULT false NOT NULL,
	"due_at" timestamp with time zone,
	"outcome" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"finished_by" uuid,
	CONSTRAINT "provisioning_jobs_action_ck" CHECK ("provisioning_jobs"."action" in ('provision','deprovision')),
	CONSTRAINT "provisioning_jobs_state_ck" CHECK ("provisioning_jobs"."state" in ('queued','running','failing','held','awaiting_confirmation','done','superseded','resolved'))
);
--> statement-breakpoint
CREATE TABLE "reconciliation_runs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"system_id" uuid NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone NOT NULL,
	"actor_id" uuid,
	"accounts" integer NOT NULL,
	"live_grants" integer NOT NULL,
	"drift" jsonb NOT NULL,
	"revoked" integer NOT NULL,
	"brake_held" boolean NOT NULL
);
--> statement-breakpoint
ALTER TABLE "grants" ADD COLUMN "provisioning_confirmed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "grants" ADD COLUMN "provisioning_evidence" jsonb;--> statement-breakpoint
ALTER TABLE "findings" ADD CONSTRAINT "findings_system_id_systems_id_fk" FOREIGN KEY ("system_id") REFERENCES "public"."systems"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "findings" ADD CONSTRAINT "findings_identity_id_identities_id_fk" FOREIGN KEY ("identity_id") REFERENCES "public"."identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "findings" ADD CONSTRAINT "findings_grant_id_grants_id_fk" FOREIGN KEY ("grant_id") REFERENCES "public"."grants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "findings" ADD CONSTRAINT "findings_owner_id_identities_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provisioning_jobs" ADD CONSTRAINT "provisioning_jobs_grant_id_grants_id_fk" FOREIGN KEY ("grant_id") REFERENCES "public"."grants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provisioning_jobs" ADD CONSTRAINT "provisioning_jobs_identity_id_identities_id_fk" FOREIGN KEY ("identity_id") REFERENCES "public"."identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provisioning_jobs" ADD CONSTRAINT "provisioning_jobs_system_id_systems_id_fk" FOREIGN KEY ("system_id") REFERENCES "public"."systems"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reconciliation_runs" ADD CONSTRAINT "reconciliation_runs_system_id_systems_id_fk" FOREIGN KEY ("system_id") REFERENCES "public"."systems"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "findings_open_key_uq" ON "findings" USING btree ("key") WHERE "findings"."status" = 'open';--> statement-breakpoint
CREATE INDEX "findings_status_idx" ON "findings" USING btree ("status","kind");--> statement-breakpoint
CREATE INDEX "findings_system_idx" ON "findings" USING btree ("system_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "provisioning_jobs_seq_uq" ON "provisioning_jobs" USING btree ("seq");--> statement-breakpoint
CREATE INDEX "provisioning_jobs_grant_idx" ON "provisioning_jobs" USING btree ("grant_id","seq");--> statement-breakpoint
CREATE INDEX "provisioning_jobs_open_idx" ON "provisioning_jobs" USING btree ("next_attempt_at") WHERE "provisioning_jobs"."state" in ('queued','failing','running');--> statement-breakpoint
CREATE INDEX "provisioning_jobs_system_idx" ON "provisioning_jobs" USING btree ("system_id","state");--> statement-breakpoint
CREATE INDEX "reconciliation_runs_system_idx" ON "reconciliation_runs" USING btree ("system_id","finished_at");--> statement-breakpoint
-- The provisioning outbox. A trigger rather than a call in each use case: activation, expiry,
-- revocation, extension and scope change all reach grants through different statements (some
-- set-based), and none of them may forget the job that makes the change real in the target. The
-- job commits with the grant change or not at all. Statement-level with transition tables, so
-- expiring 100,000 grants writes their jobs with one INSERT … SELECT. A job is due at once: at the
-- grant's own time (its end, or its start), which is the application's clock, never later than now.
CREATE FUNCTION tenure_grant_provisioning_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = 'active' AND (OLD.status <> 'active' OR OLD.ends_at IS DISTINCT FROM NEW.ends_at) THEN
    NEW.provisioning_state := 'pending';
  ELSIF OLD.status = 'active' AND NEW.status IN ('expired', 'revoked') THEN
    NEW.provisioning_state := 'pending';
  ELSIF OLD.status = 'scheduled' AND NEW.status IN ('expired', 'revoked') THEN
    -- Never started, so never provisioned: nothing exists in the target to remove.
    NEW.provisioning_state := 'deprovisioned';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER grants_provisioning_state BEFORE UPDATE OF status, ends_at ON grants
  FOR EACH ROW EXECUTE FUNCTION tenure_grant_provisioning_state();
--> statement-breakpoint
CREATE FUNCTION tenure_enqueue_provisioning_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO provisioning_jobs (grant_id, identity_id, system_id, action, next_attempt_at)
    SELECT n.id, n.identity_id, e.system_id, 'provision', LEAST(now(), n.starts_at)
      FROM new_grants n JOIN entitlements e ON e.id = n.entitlement_id
     WHERE n.status = 'active';
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION tenure_enqueue_provisioning_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO provisioning_jobs (grant_id, identity_id, system_id, action, next_attempt_at)
    SELECT n.id, n.identity_id, e.system_id, CASE WHEN n.status = 'active' THEN 'provision' ELSE 'deprovision' END,
           LEAST(now(), COALESCE(n.ended_at, n.starts_at))
      FROM new_grants n JOIN old_grants o ON o.id = n.id JOIN entitlements e ON e.id = n.entitlement_id
     WHERE (n.status = 'active' AND (o.status <> 'active' OR o.ends_at IS DISTINCT FROM n.ends_at))
        OR (o.status = 'active' AND n.status IN ('expired', 'revoked'))
     ORDER BY n.id;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER grants_enqueue_provisioning_insert AFTER INSERT ON grants
  REFERENCING NEW TABLE AS new_grants FOR EACH STATEMENT EXECUTE FUNCTION tenure_enqueue_provisioning_on_insert();
--> statement-breakpoint
CREATE TRIGGER grants_enqueue_provisioning_update AFTER UPDATE ON grants
  REFERENCING OLD TABLE AS old_grants NEW TABLE AS new_grants FOR EACH STATEMENT EXECUTE FUNCTION tenure_enqueue_provisioning_on_update();
