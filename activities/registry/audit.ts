/** The registry's audit streams (`registry-<model>`) live in the general audit trail: activities/audit/log.ts. */
export { appendAudit, readAuditStream, verifyAuditStream, type AuditRecord } from '../audit/log.js';
