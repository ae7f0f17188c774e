CREATE TABLE `mcp_sessions` (
	`id_hash` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`agent_id` text NOT NULL,
	`credential_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `mcp_sessions_expiry_idx` ON `mcp_sessions` (`expires_at`);