import ipaddr from 'ipaddr.js';

/**
 * The key per-IP limits count a client under. An IPv6 client usually holds a whole /64 (one
 * subscriber's prefix) and can pick any address in it, so counting per address would give it
 * 2^64 fresh counters: it is counted by its /64. IPv4-mapped IPv6 (`::ffff:1.2.3.4`, what a
 * dual-stack socket reports for an IPv4 client) is counted as the IPv4 address it carries.
 * Anything that is not an IP address (a Unix socket, a test transport) is used as it is.
 */
export function clientKey(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const address = ipaddr.process(ip);
  if (address.kind() === 'ipv4') return address.toString();
  const prefix = (address as ipaddr.IPv6).parts.slice(0, 4);
  return `${new ipaddr.IPv6([...prefix, 0, 0, 0, 0]).toString()}/64`;
}
