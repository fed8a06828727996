CREATE TABLE "proxy_sessions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"protocol" text NOT NULL,
	"identity_id" uuid NOT NULL,
	"grant_id" uuid NOT NULL,
	"system_id" uuid NOT NULL,
	"entitlement_id" uuid NOT NULL,
	"account" text NOT NULL,
	"role" text NOT NULL,
	"client_address" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"end_reason" text,
	"statement_count" integer,
	"recording_sha256" text
);
--> statement-breakpoint
CREATE TABLE "proxy_statements" (
	"session_id" uuid NOT NULL,
	"seq" bigint NOT NULL,
	"record" text NOT NULL,
	CONSTRAINT "proxy_statements_session_id_seq_pk" PRIMARY KEY("session_id","seq")
);
--> statement-breakpoint
ALTER TABLE "proxy_sessions" ADD CONSTRAINT "proxy_sessions_identity_id_identities_id_fk" FOREIGN KEY ("identity_id") REFERENCES "public"."identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "proxy_sessions" ADD CONSTRAINT "proxy_sessions_grant_id_grants_id_fk" FOREIGN KEY ("grant_id") REFERENCES "public"."grants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "proxy_sessions" ADD CONSTRAINT "proxy_sessions_system_id_systems_id_fk" FOREIGN KEY ("system_id") REFERENCES "public"."systems"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "proxy_sessions" ADD CONSTRAINT "proxy_sessions_entitlement_id_entitlements_id_fk" FOREIGN KEY ("entitlement_id") REFERENCES "public"."entitlements"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "proxy_statements" ADD CONSTRAINT "proxy_statements_session_id_proxy_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."proxy_sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "proxy_sessions_grant_idx" ON "proxy_sessions" USING btree ("grant_id");--> statement-breakpoint
CREATE INDEX "proxy_sessions_identity_idx" ON "proxy_sessions" USING btree ("identity_id");--> statement-breakpoint
CREATE INDEX "proxy_sessions_open_idx" ON "proxy_sessions" USING btree ("ended_at");