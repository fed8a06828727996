CREATE TABLE "ssh_upstream_cas" (
	"fingerprint" text PRIMARY KEY NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL
);
