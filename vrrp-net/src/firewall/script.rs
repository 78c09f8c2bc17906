//! The nftables rulesets, as `nft -f` scripts (pure text, so they are unit-tested).
//!
//! Two tables of the same name, one per family (`ip NAME` and `ip6 NAME`), each hooked just
//! before the default filter priority, like keepalived's own `keepalived` tables:
//!
//! - **no_accept** (RFC 9568 §6.1, Accept_Mode false): a master owns its addresses for ARP /
//!   ND, but packets to them are dropped on input and packets from them on output. The `vips`
//!   set holds the addresses of no_accept routers while they are installed; ND (neighbour
//!   solicitation and advertisement) passes so the master still answers for them.
//! - **silent virtual MACs** (RFC 9568 §7.3): a macvlan carrying the shared virtual MAC must
//!   not teach switches that MAC from a backup's port. IGMP / MLD reports leaving a macvlan
//!   listed in `vmac_map` are copied to its parent interface and dropped on the macvlan;
//!   router solicitations leaving one are dropped.

use std::fmt::Write as _;
use std::net::IpAddr;

/// Default table name: distinct from keepalived's `keepalived`, so both can run on one host.
pub const DEFAULT_TABLE: &str = "vrrp_net";

/// Whether `name` is usable as a table name without quoting (`[A-Za-z][A-Za-z0-9_]*`, at
/// most 64 bytes).
pub fn valid_table_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 64
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether `name` is a plain interface name (at most 15 bytes, no quotes or spaces).
pub fn valid_ifname(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\' && c != '/')
}

/// Removes both tables; `nft` accepts `destroy` only from 1.0.8 on, so the tables are first
/// created (a no-op when present) and then deleted, which succeeds either way.
pub fn teardown(table: &str) -> String {
    format!(
        "add table ip {table}\ndelete table ip {table}\n\
         add table ip6 {table}\ndelete table ip6 {table}\n"
    )
}

/// A fresh pair of tables (whatever an earlier run left is removed first).
pub fn setup(table: &str) -> String {
    let mut s = teardown(table);
    let _ = write!(
        s,
        "table ip {table} {{\n\
         \tset vips {{ type ipv4_addr; }}\n\
         \tmap vmac_map {{ type iface_index : iface_index; }}\n\
         \tchain in {{\n\
         \t\ttype filter hook input priority -1; policy accept;\n\
         \t\tip daddr @vips drop\n\
         \t}}\n\
         \tchain out {{\n\
         \t\ttype filter hook output priority -1; policy accept;\n\
         \t\tip protocol igmp meta oifkind \"macvlan\" dup to ip daddr device oif map @vmac_map drop\n\
         \t\tip saddr @vips drop\n\
         \t}}\n\
         }}\n\
         table ip6 {table} {{\n\
         \tset vips {{ type ipv6_addr; }}\n\
         \tmap vmac_map {{ type iface_index : iface_index; }}\n\
         \tset vmac_set {{ type iface_index; }}\n\
         \tchain in {{\n\
         \t\ttype filter hook input priority -1; policy accept;\n\
         \t\ticmpv6 type {{ nd-neighbor-solicit, nd-neighbor-advert }} accept\n\
         \t\tip6 daddr @vips drop\n\
         \t}}\n\
         \tchain out {{\n\
         \t\ttype filter hook output priority -1; policy accept;\n\
         \t\ticmpv6 type {{ mld-listener-report, mld-listener-done, mld2-listener-report }} \
         meta oifkind \"macvlan\" dup to ip6 daddr device oif map @vmac_map drop\n\
         \t\ticmpv6 type nd-router-solicit meta oifkind \"macvlan\" oif @vmac_set drop\n\
         \t\ticmpv6 type {{ nd-neighbor-solicit, nd-neighbor-advert }} accept\n\
         \t\tip6 saddr @vips drop\n\
         \t}}\n\
         }}\n"
    );
    s
}

fn family_of(addr: IpAddr) -> &'static str {
    match addr {
        IpAddr::V4(_) => "ip",
        IpAddr::V6(_) => "ip6",
    }
}

/// Adds (`add`) or removes (`delete`) an address in the `vips` set of its family.
pub fn vip(table: &str, verb: &str, addr: IpAddr) -> String {
    format!(
        "{verb} element {} {table} vips {{ {addr} }}\n",
        family_of(addr)
    )
}

/// Adds (`add`) or removes (`delete`) a macvlan and its parent in both families' maps.
pub fn vmac(table: &str, verb: &str, vmac: &str, parent: &str) -> String {
    format!(
        "{verb} element ip {table} vmac_map {{ \"{vmac}\" : \"{parent}\" }}\n\
         {verb} element ip6 {table} vmac_map {{ \"{vmac}\" : \"{parent}\" }}\n\
         {verb} element ip6 {table} vmac_set {{ \"{vmac}\" }}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_checked() {
        assert!(valid_table_name("vrrp_net"));
        assert!(valid_table_name("keepalived"));
        for bad in ["", "1abc", "a b", "a;delete", "a\"", &"x".repeat(65)] {
            assert!(!valid_table_name(bad), "{bad:?}");
        }
        assert!(valid_ifname("vrrp.51"));
        for bad in ["", "a b", "a\"b", "sixteen_chars_xx"] {
            assert!(!valid_ifname(bad), "{bad:?}");
        }
    }

    #[test]
    fn setup_starts_from_scratch_and_hooks_both_families() {
        let s = setup("t");
        assert!(s.starts_with(&teardown("t")));
        assert!(s.contains("table ip t {"));
        assert!(s.contains("table ip6 t {"));
        assert!(s.contains("ip daddr @vips drop"));
        assert!(s.contains("ip6 daddr @vips drop"));
        // ND must pass before the VIP rules, or a no_accept master could not own its address.
        let nd = s
            .find("icmpv6 type { nd-neighbor-solicit")
            .unwrap_or(usize::MAX);
        assert!(nd < s.find("ip6 daddr @vips drop").unwrap_or(0));
    }

    #[test]
    fn elements_go_to_their_family() {
        let v4: IpAddr = [192, 0, 2, 100].into();
        let v6: IpAddr = "2001:db8::100".parse().unwrap_or(v4);
        assert_eq!(
            vip("t", "add", v4),
            "add element ip t vips { 192.0.2.100 }\n"
        );
        assert_eq!(
            vip("t", "delete", v6),
            "delete element ip6 t vips { 2001:db8::100 }\n"
        );
        assert!(vmac("t", "add", "vrrp.51", "eth0").contains("vmac_set { \"vrrp.51\" }"));
    }
}
