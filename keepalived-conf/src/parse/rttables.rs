//! The names keepalived 2.2.7 knows without reading /etc/iproute2 (its built-in tables of
//! route types, protocols, tables and scopes), and numbers as `strtoul(.., 0)` reads them.

/// A number in decimal or `0x` hexadecimal.
pub(super) fn unsigned(text: &str) -> Option<u64> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

fn number_at_most(text: &str, max: u64) -> Option<u64> {
    unsigned(text).filter(|n| *n <= max)
}

/// `rtm_type` of a route type name.
pub(super) fn route_type(name: &str) -> Option<u8> {
    Some(match name {
        "unicast" => 1,
        "local" => 2,
        "broadcast" | "brd" => 3,
        "anycast" => 4,
        "multicast" => 5,
        "blackhole" => 6,
        "unreachable" => 7,
        "prohibit" => 8,
        "throw" => 9,
        "nat" => 10,
        "xresolve" => 11,
        _ => return None,
    })
}

/// `rtm_protocol` of a protocol name or number (at most 255).
pub(super) fn protocol(text: &str) -> Option<u8> {
    let named = match text {
        "none" => Some(0),
        "redirect" => Some(1),
        "kernel" => Some(2),
        "boot" => Some(3),
        "static" => Some(4),
        "gated" => Some(8),
        "ra" => Some(9),
        "mrt" => Some(10),
        "zebra" => Some(11),
        "bird" => Some(12),
        "dnrouted" => Some(13),
        "xorp" => Some(14),
        "ntk" => Some(15),
        "dhcp" => Some(16),
        "babel" => Some(42),
        _ => None,
    };
    named.or_else(|| number_at_most(text, 255).and_then(|n| u8::try_from(n).ok()))
}

/// A routing table id of a name (`main`, `local`, `default`) or number.
pub(super) fn table(text: &str) -> Option<u32> {
    match text {
        "default" => Some(253),
        "main" => Some(254),
        "local" => Some(255),
        _ => number_at_most(text, u64::from(u32::MAX)).and_then(|n| u32::try_from(n).ok()),
    }
}

/// `rtm_scope` of a scope name or number (at most 255).
pub(super) fn scope(text: &str) -> Option<u8> {
    match text {
        "global" => Some(0),
        "site" => Some(200),
        "link" => Some(253),
        "host" => Some(254),
        "nowhere" => Some(255),
        _ => number_at_most(text, 255).and_then(|n| u8::try_from(n).ok()),
    }
}

/// A TOS / DS field (a number at most 255; keepalived's names come from a file).
pub(super) fn dsfield(text: &str) -> Option<u8> {
    number_at_most(text, 255).and_then(|n| u8::try_from(n).ok())
}
