-- Write rate limits counted in the database, so every server process shares one budget per
-- identity (or client address) and minute. Rows of past minutes are deleted by housekeeping.
CREATE TABLE "write_rate_limits" (
	"budget" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"count" integer NOT NULL,
	CONSTRAINT "write_rate_limits_budget_window_start_pk" PRIMARY KEY("budget","window_start")
);
