CREATE TABLE "access_requests" (
	"id" uuid PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"requester_id" uuid NOT NULL,
	"beneficiary_id" uuid NOT NULL,
	"entitlement_id" uuid NOT NULL,
	"engagement_id" uuid,
	"target_grant_id" uuid,
	"justification" text NOT NULL,
	"ticket" text,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"out_of_scope" boolean NOT NULL,
	"status" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"decided_at" timestamp with time zone,
	"decision_reason" text,
	"grant_id" uuid,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "requests_status_ck" CHECK ("access_requests"."status" in ('pending','approved','denied','cancelled','expired')),
	CONSTRAINT "requests_kind_ck" CHECK ("access_requests"."kind" in ('new','extension','scope_change','break_glass'))
);
--> statement-breakpoint
CREATE TABLE "audit_checkpoints" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"hash" text NOT NULL,
	"signed_at" timestamp with time zone NOT NULL,
	"key_id" text NOT NULL,
	"signature" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"action" text NOT NULL,
	"actor_id" uuid,
	"channel" text NOT NULL,
	"subject_type" text NOT NULL,
	"subject_id" text NOT NULL,
	"identity_id" uuid,
	"system_id" uuid,
	"canonical" text NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_head" (
	"id" integer PRIMARY KEY NOT NULL,
	"seq" bigint NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "engagements" (
	"id" uuid PRIMARY KEY NOT NULL,
	"identity_id" uuid NOT NULL,
	"vendor_id" uuid NOT NULL,
	"sponsor_id" uuid NOT NULL,
	"business_function" text NOT NULL,
	"purpose" text NOT NULL,
	"pattern" text NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"data_sensitivity" text NOT NULL,
	"scope" jsonb NOT NULL,
	"status" text NOT NULL,
	"ended_at" timestamp with time zone,
	"end_reason" text,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "entitlements" (
	"id" uuid PRIMARY KEY NOT NULL,
	"key" text NOT NULL,
	"system_id" uuid NOT NULL,
	"name" text NOT NULL,
	"tier" text NOT NULL,
	"max_duration_ms" bigint,
	"retired" boolean DEFAULT false NOT NULL,
	CONSTRAINT "entitlements_tier_ck" CHECK ("entitlements"."tier" in ('read','standard','privileged'))
);
--> statement-breakpoint
CREATE TABLE "exceptions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"request_id" uuid,
	"identity_id" uuid NOT NULL,
	"entitlement_id" uuid,
	"approver_id" uuid NOT NULL,
	"justification" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "grants" (
	"id" uuid PRIMARY KEY NOT NULL,
	"identity_id" uuid NOT NULL,
	"entitlement_id" uuid NOT NULL,
	"engagement_id" uuid,
	"request_id" uuid,
	"exception_id" uuid,
	"origin" text NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone,
	"status" text NOT NULL,
	"provisioning_state" text NOT NULL,
	"ended_at" timestamp with time zone,
	"ended_by" uuid,
	"end_reason" text,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "grants_status_ck" CHECK ("grants"."status" in ('scheduled','active','expired','revoked'))
);
--> statement-breakpoint
CREATE TABLE "identities" (
	"id" uuid PRIMARY KEY NOT NULL,
	"handle" text NOT NULL,
	"display_name" text NOT NULL,
	"email" text,
	"kind" text NOT NULL,
	"status" text NOT NULL,
	"manager_id" uuid,
	"sponsor_id" uuid,
	"owner_id" uuid,
	"vendor_id" uuid,
	"department" text,
	"title" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "identities_kind_ck" CHECK ("identities"."kind" in ('employee','contractor','vendor_operator','service_account')),
	CONSTRAINT "identities_status_ck" CHECK ("identities"."status" in ('pending','active','suspended','terminated'))
);
--> statement-breakpoint
CREATE TABLE "policy_state" (
	"id" integer PRIMARY KEY NOT NULL,
	"document" jsonb NOT NULL,
	"digest" text NOT NULL,
	"applied_at" timestamp with time zone NOT NULL,
	"applied_by" uuid
);
--> statement-breakpoint
CREATE TABLE "request_stages" (
	"request_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"kind" text NOT NULL,
	"approver_ids" jsonb NOT NULL,
	"uses_alternates" boolean NOT NULL,
	"status" text NOT NULL,
	"decided_by" uuid,
	"decided_at" timestamp with time zone,
	"comment" text,
	CONSTRAINT "request_stages_request_id_position_pk" PRIMARY KEY("request_id","position")
);
--> statement-breakpoint
CREATE TABLE "role_assignments" (
	"identity_id" uuid NOT NULL,
	"role" text NOT NULL,
	"source" text NOT NULL,
	CONSTRAINT "role_assignments_identity_id_role_source_pk" PRIMARY KEY("identity_id","role","source")
);
--> statement-breakpoint
CREATE TABLE "systems" (
	"id" uuid PRIMARY KEY NOT NULL,
	"key" text NOT NULL,
	"name" text NOT NULL,
	"business_owner_id" uuid NOT NULL,
	"technical_owner_id" uuid NOT NULL,
	"criticality" text NOT NULL,
	"retired" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vendors" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"relationship_owner_id" uuid NOT NULL,
	"contract_end" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "access_requests" ADD CONSTRAINT "access_requests_requester_id_identities_id_fk" FOREIGN KEY ("requester_id") REFERENCES "public"."identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "access_requests" ADD CONSTRAINT "access_requests_beneficiary_id_identities_id_fk" FOREIGN KEY ("beneficiary_id") REFERENCES "public"."identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "access_requests" ADD CONSTRAINT "access_requests_entitlement_id_entitlements_id_fk" FOREIGN KEY ("entitlement_id") REFERENCES "public"."entitlements"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "access_requests" ADD CONSTRAINT "access_requests_engagement_id_engagements_id_fk" FOREIGN KEY ("engagement_id") REFERENCES "public"."engagements"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "engagements" ADD CONSTRAINT "engagements_identity_id_identities_id_fk" FOREIGN KEY ("identity_id") REFERENCES "public"."identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "engagements" ADD CONSTRAINT "engagements_vendor_id_vendors_id_fk" FOREIGN KEY ("vendor_id") REFERENCES "public"."vendors"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "engagements" ADD CONSTRAINT "engagements_sponsor_id_identities_id_fk" FOREIGN KEY ("sponsor_id") REFERENCES "public"."identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "entitlements" ADD CONSTRAINT "entitlements_system_id_systems_id_fk" FOREIGN KEY ("system_id") REFERENCES "public"."systems"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "exceptions" ADD CONSTRAINT "exceptions_request_id_access_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "public"."access_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "exceptions" ADD CONSTRAINT "exceptions_identity_id_identities_id_fk" FOREIGN KEY ("identity_id") REFERENCES "public"."identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "exceptions" ADD CONSTRAINT "exceptions_entitlement_id_entitlements_id_fk" FOREIGN KEY ("entitlement_id") REFERENCES "public"."entitlements"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "exceptions" ADD CONSTRAINT "exceptions_approver_id_identities_id_fk" FOREIGN KEY ("approver_id") REFERENCES "public"."identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grants" ADD CONSTRAINT "grants_identity_id_identities_id_fk" FOREIGN KEY ("identity_id") REFERENCES "public"."identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grants" ADD CONSTRAINT "grants_entitlement_id_entitlements_id_fk" FOREIGN KEY ("entitlement_id") REFERENCES "public"."entitlements"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grants" ADD CONSTRAINT "grants_engagement_id_engagements_id_fk" FOREIGN KEY ("engagement_id") REFERENCES "public"."engagements"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grants" ADD CONSTRAINT "grants_request_id_access_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "public"."access_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grants" ADD CONSTRAINT "grants_exception_id_exceptions_id_fk" FOREIGN KEY ("exception_id") REFERENCES "public"."exceptions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "request_stages" ADD CONSTRAINT "request_stages_request_id_access_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "public"."access_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "role_assignments" ADD CONSTRAINT "role_assignments_identity_id_identities_id_fk" FOREIGN KEY ("identity_id") REFERENCES "public"."identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "systems" ADD CONSTRAINT "systems_business_owner_id_identities_id_fk" FOREIGN KEY ("business_owner_id") REFERENCES "public"."identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "systems" ADD CONSTRAINT "systems_technical_owner_id_identities_id_fk" FOREIGN KEY ("technical_owner_id") REFERENCES "public"."identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vendors" ADD CONSTRAINT "vendors_relationship_owner_id_identities_id_fk" FOREIGN KEY ("relationship_owner_id") REFERENCES "public"."identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "requests_beneficiary_idx" ON "access_requests" USING btree ("beneficiary_id","status");--> statement-breakpoint
CREATE INDEX "requests_due_idx" ON "access_requests" USING btree ("status","expires_at");--> statement-breakpoint
CREATE INDEX "audit_identity_idx" ON "audit_events" USING btree ("identity_id","seq");--> statement-breakpoint
CREATE INDEX "audit_system_idx" ON "audit_events" USING btree ("system_id","seq");--> statement-breakpoint
CREATE INDEX "audit_action_idx" ON "audit_events" USING btree ("action","seq");--> statement-breakpoint
CREATE INDEX "audit_time_idx" ON "audit_events" USING btree ("occurred_at");--> statement-breakpoint
CREATE INDEX "engagements_identity_idx" ON "engagements" USING btree ("identity_id");--> statement-breakpoint
CREATE INDEX "engagements_due_idx" ON "engagements" USING btree ("status","ends_at");--> statement-breakpoint
CREATE UNIQUE INDEX "entitlements_key_uq" ON "entitlements" USING btree ("key");--> statement-breakpoint
CREATE INDEX "grants_identity_idx" ON "grants" USING btree ("identity_id","status");--> statement-breakpoint
CREATE INDEX "grants_due_idx" ON "grants" USING btree ("status","ends_at");--> statement-breakpoint
CREATE INDEX "grants_start_idx" ON "grants" USING btree ("status","starts_at");--> statement-breakpoint
CREATE INDEX "grants_engagement_idx" ON "grants" USING btree ("engagement_id");--> statement-breakpoint
CREATE UNIQUE INDEX "identities_handle_uq" ON "identities" USING btree ("handle");--> statement-breakpoint
CREATE INDEX "identities_sponsor_idx" ON "identities" USING btree ("sponsor_id");--> statement-breakpoint
CREATE UNIQUE INDEX "systems_key_uq" ON "systems" USING btree ("key");--> statement-breakpoint
CREATE UNIQUE INDEX "vendors_name_uq" ON "vendors" USING btree ("name");