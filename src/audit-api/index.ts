/**
 * The audit log's read API (list, export, verify). Apart from src/audit because it needs
 * authentication, and authentication's routes record audit events: kept in one folder the
 * two would import each other (docs/architecture.md).
 */
export { auditRoutes } from './routes';
