// The directory: tenants, their domains and users, and reverse number lookup (routing.md
// "Reverse number lookup"). Built once from a validated configuration; lookups are pure.
import type { DialgateConfig, TenantConfig, UserConfig } from "../config/schema.js";
import { type AssignedNumber, formatAssignedNumber, parseAssignedNumber } from "./line-uri.js";

export interface DirectoryUser {
  /** `user@domain`, lower-case (the SIP address that identifies the user). */
  readonly id: string;
  /** The part before `@`: the digest username (config.md: HA1 = MD5(user:realm:password)). */
  readonly username: string;
  /** The host of `id`: the user's domain and digest realm. */
  readonly domain: string;
  readonly tenant: TenantConfig;
  readonly config: UserConfig;
  readonly assignedNumber: AssignedNumber | null;
}

export interface Directory {
  readonly tenants: readonly TenantConfig[];
  tenantById(id: string): TenantConfig | undefined;
  /** The tenant that owns exactly this domain (case-insensitive). */
  tenantByDomain(domain: string): TenantConfig | undefined;
  userById(id: string): DirectoryUser | undefined;
  /**
   * The user named by a SIP address `user@host`, only when `host` is a domain of the user's
   * tenant (so that `alice@other.example` never names `alice@contoso.com`).
   */
  userByAddress(user: string, host: string): DirectoryUser | undefined;
  /** Exact reverse number lookup inside a tenant: `+number` or `+number;ext=NNN`. */
  userByNumber(tenantId: string, number: string): DirectoryUser | undefined;
  /**
   * Users of a tenant whose assigned number has this E.164 part, whatever their extension
   * (for internal calls dialled without an extension).
   */
  usersByBaseNumber(tenantId: string, e164: string): readonly DirectoryUser[];
}

export function createDirectory(config: DialgateConfig): Directory {
  const tenantsById = new Map<string, TenantConfig>();
  const tenantsByDomain = new Map<string, TenantConfig>();
  const users = new Map<string, DirectoryUser>();
  // key: `${tenantId}\n${number[;ext=...]}`
  const byNumber = new Map<string, DirectoryUser>();
  const byBase = new Map<string, DirectoryUser[]>();

  for (const tenant of config.tenants) {
    tenantsById.set(tenant.id.toLowerCase(), tenant);
    for (const d of tenant.domains) tenantsByDomain.set(d.toLowerCase(), tenant);
    for (const u of tenant.users) {
      const at = u.id.lastIndexOf("@");
      const assigned = u.lineUri === undefined ? null : parseAssignedNumber(u.lineUri);
      const user: DirectoryUser = {
        id: u.id.toLowerCase(),
        username: u.id.slice(0, at),
        domain: u.id.slice(at + 1).toLowerCase(),
        tenant,
        config: u,
        assignedNumber: assigned,
      };
      users.set(user.id, user);
      if (assigned !== null) {
        const tid = tenant.id.toLowerCase();
        byNumber.set(`${tid}\n${formatAssignedNumber(assigned)}`, user);
        const baseKey = `${tid}\n${assigned.number}`;
        const list = byBase.get(baseKey) ?? [];
        list.push(user);
        byBase.set(baseKey, list);
      }
    }
  }

  return {
    tenants: config.tenants,
    tenantById: (id) => tenantsById.get(id.toLowerCase()),
    tenantByDomain: (domain) => tenantsByDomain.get(domain.toLowerCase()),
    userById: (id) => users.get(id.toLowerCase()),
    userByAddress(user, host) {
      const found = users.get(`${user}@${host}`.toLowerCase());
      if (found === undefined) return undefined;
      const tenant = tenantsByDomain.get(host.toLowerCase());
      return tenant === found.tenant ? found : undefined;
    },
    userByNumber(tenantId, number) {
      const parsed = parseAssignedNumber(number);
      if (parsed === null) return undefined;
      return byNumber.get(`${tenantId.toLowerCase()}\n${formatAssignedNumber(parsed)}`);
    },
    usersByBaseNumber: (tenantId, e164) => byBase.get(`${tenantId.toLowerCase()}\n${e164}`) ?? [],
  };
}
