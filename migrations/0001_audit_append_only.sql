-- The audit log is append-only. These triggers stop the application (or anyone using the
-- Worker's binding) from rewriting history; someone with raw database access can drop
-- them, which is why every event is also hash-chained (src/audit/chain.ts).
CREATE TRIGGER `audit_events_no_update` BEFORE UPDATE ON `audit_events`
BEGIN
  SELECT RAISE(ABORT, 'audit_events is append-only');
END;
--> statement-breakpoint
CREATE TRIGGER `audit_events_no_delete` BEFORE DELETE ON `audit_events`
BEGIN
  SELECT RAISE(ABORT, 'audit_events is append-only');
END;
