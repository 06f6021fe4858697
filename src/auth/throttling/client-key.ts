import ipaddr from 'ipaddr.js';

const IPV4_WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/;
const BRACKETED_IPV6 = /^\[([^\]]+)\](?::\d{1,5})?$/;

/** Addresses normalized so far (by what was reported); cleared when full. */
const normalized = new Map<string, string | null>();
const MAX_NORMALIZED = 10_000;
/** Longer values are parsed each time, never kept (a client may send anything through a proxy). */
const MAX_REMEMBERED_LENGTH = 64;

/**
 * A copy of `value` that shares no memory with it: an address cut out of X-Forwarded-For is a
 * slice that keeps the whole header alive (16 KB per entry here, measured), whatever its length.
 */
const detached = (value: string): string => JSON.parse(JSON.stringify(value)) as string;

/**
 * `value` as one IP address, spelt one way (IPv4 dotted, IPv6 compressed lower-case, an
 * IPv4-mapped IPv6 address as its IPv4 address), with a port dropped (`1.2.3.4:80`,
 * `[2001:db8::1]:443`); null when it is not an IP address. IPv4 only in four decimal parts:
 * `127.1` or `0x7f.0.0.1` are not addresses a proxy reports.
 */
export function parseClientAddress(value: string | undefined): string | null {
  if (value === undefined) return null;
  // Remembered: parsing is 3% of an authenticated request (a CPU profile of an API-key read),
  // and a server sees the same few addresses again and again.
  if (value.length > MAX_REMEMBERED_LENGTH) return normalize(value);
  const known = normalized.get(value);
  if (known !== undefined) return known;
  if (normalized.size >= MAX_NORMALIZED) normalized.clear();
  const address = normalize(value);
  normalized.set(detached(value), address);
  return address;
}

function normalize(value: string): string | null {
  const text = value.trim();
  const host = IPV4_WITH_PORT.exec(text)?.[1] ?? BRACKETED_IPV6.exec(text)?.[1] ?? text;
  if (!ipaddr.IPv4.isValidFourPartDecimal(host) && !ipaddr.IPv6.isValid(host)) return null;
  return ipaddr.process(host).toString();
}

/**
 * The client's address: the one the platform reports (with a trusted proxy, taken from
 * X-Forwarded-For), normalized by parseClientAddress. A reported value that is no IP address
 * (`10.0.0.1:1234` once was taken as it is, `garbage`) would be a fresh rate-limit key per
 * spelling, so the connecting socket's address stands in for it.
 */
export function clientAddress(reported: string | undefined, socket: string | undefined): string {
  return parseClientAddress(reported) ?? parseClientAddress(socket) ?? socket ?? 'unknown';
}

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
