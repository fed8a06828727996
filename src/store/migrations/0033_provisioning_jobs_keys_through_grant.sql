ALTER TABLE "provisioning_jobs" DROP CONSTRAINT "provisioning_jobs_identity_id_identities_id_fk";
--> statement-breakpoint
ALTER TABLE "provisioning_jobs" DROP CONSTRAINT "provisioning_jobs_system_id_systems_id_fk";
