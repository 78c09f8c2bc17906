//! One policy-routing rule: what it matches and what it does.

use std::fmt;
use std::net::IpAddr;

use vrrp_core::Family;

/// What a matching rule does (`fib_rule_hdr.action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RuleAction {
    /// Look the packet up in this table (FR_ACT_TO_TBL).
    Table(u32),
    /// Continue at the rule of this preference (FR_ACT_GOTO).
    Goto(u32),
    /// Do nothing (FR_ACT_NOP).
    Nop,
    /// Drop silently (FR_ACT_BLACKHOLE).
    Blackhole,
    /// Drop with "network unreachable" (FR_ACT_UNREACHABLE).
    Unreachable,
    /// Drop with "administratively prohibited" (FR_ACT_PROHIBIT).
    Prohibit,
}

/// One rule, as keepalived installs it: protocol `keepalived` (18) unless told otherwise.
///
/// Built with [`Rule::new`] and the chainable setters; the fields stay readable.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Rule {
    /// The family of the rule (`ip -4 rule` or `ip -6 rule`).
    pub family: Family,
    /// Preference (FRA_PRIORITY): rules are tried in increasing order.
    pub priority: u32,
    /// What the rule does.
    pub action: RuleAction,
    /// Source prefix matched (`from`).
    pub from: Option<(IpAddr, u8)>,
    /// Destination prefix matched (`to`).
    pub to: Option<(IpAddr, u8)>,
    /// Incoming interface name matched (`iif`).
    pub iif: Option<String>,
    /// Outgoing interface name matched (`oif`).
    pub oif: Option<String>,
    /// Firewall mark matched (`fwmark`).
    pub fwmark: Option<u32>,
    /// Mask of the firewall mark (`fwmark MARK/MASK`).
    pub fwmask: Option<u32>,
    /// TOS / DS field matched.
    pub tos: u8,
    /// `not`: the rule applies to packets that do not match.
    pub invert: bool,
    /// FRA_PROTOCOL; `None`: not sent (the kernel's `unspec`).
    pub protocol: Option<u8>,
}

impl Rule {
    /// A rule of `family` at preference `priority` doing `action`, matching everything.
    pub fn new(family: Family, priority: u32, action: RuleAction) -> Self {
        Self {
            family,
            priority,
            action,
            from: None,
            to: None,
            iif: None,
            oif: None,
            fwmark: None,
            fwmask: None,
            tos: 0,
            invert: false,
            protocol: Some(super::PROTOCOL_KEEPALIVED),
        }
    }

    /// Matching source prefix `addr`/`prefix_len`.
    pub fn from(mut self, addr: IpAddr, prefix_len: u8) -> Self {
        self.from = Some((addr, prefix_len));
        self
    }

    /// Matching destination prefix `addr`/`prefix_len`.
    pub fn to(mut self, addr: IpAddr, prefix_len: u8) -> Self {
        self.to = Some((addr, prefix_len));
        self
    }

    /// Matching incoming interface `name`.
    pub fn iif(mut self, name: impl Into<String>) -> Self {
        self.iif = Some(name.into());
        self
    }

    /// Matching outgoing interface `name`.
    pub fn oif(mut self, name: impl Into<String>) -> Self {
        self.oif = Some(name.into());
        self
    }

    /// Matching firewall mark `mark`, under `mask` if given.
    pub fn fwmark(mut self, mark: u32, mask: Option<u32>) -> Self {
        self.fwmark = Some(mark);
        self.fwmask = mask;
        self
    }

    /// Matching TOS `tos`.
    pub fn tos(mut self, tos: u8) -> Self {
        self.tos = tos;
        self
    }

    /// Applying to what does not match (`not`).
    pub fn invert(mut self, invert: bool) -> Self {
        self.invert = invert;
        self
    }

    /// With FRA_PROTOCOL `protocol` (`None`: not sent).
    pub fn protocol(mut self, protocol: Option<u8>) -> Self {
        self.protocol = protocol;
        self
    }
}

/// `ip rule`'s form: `100: not from 192.0.2.0/24 iif eth0 lookup 100`.
impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.priority)?;
        if self.invert {
            f.write_str(" not")?;
        }
        match self.from {
            Some((addr, len)) => write!(f, " from {addr}/{len}")?,
            None => f.write_str(" from all")?,
        }
        if let Some((addr, len)) = self.to {
            write!(f, " to {addr}/{len}")?;
        }
        if let Some(mark) = self.fwmark {
            write!(f, " fwmark {mark:#x}")?;
            if let Some(mask) = self.fwmask {
                write!(f, "/{mask:#x}")?;
            }
        }
        if let Some(iif) = &self.iif {
            write!(f, " iif {iif}")?;
        }
        if let Some(oif) = &self.oif {
            write!(f, " oif {oif}")?;
        }
        match self.action {
            RuleAction::Table(t) => write!(f, " lookup {t}"),
            RuleAction::Goto(p) => write!(f, " goto {p}"),
            RuleAction::Nop => f.write_str(" nop"),
            RuleAction::Blackhole => f.write_str(" blackhole"),
            RuleAction::Unreachable => f.write_str(" unreachable"),
            RuleAction::Prohibit => f.write_str(" prohibit"),
        }
    }
}
