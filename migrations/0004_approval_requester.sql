ALTER TABLE `approvals` ADD `requested_by_user_id` text;--> statement-breakpoint
ALTER TABLE `approvals` ADD `requested_by_credential_id` text;