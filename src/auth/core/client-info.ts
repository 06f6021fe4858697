/**
 * Where a request came from, passed explicitly from a controller to the services that record
 * security events (no per-request async context: see docs/audit.md).
 */
export interface ClientInfo {
  ip: string;
  userAgent?: string;
}
