//! The top-level `static_ipaddress`, `static_routes` and `static_rules` blocks.

use super::values::block;
use super::{Ctx, address, route, rule};
use crate::error::ConfError;
use crate::model::VipSpec;
use crate::net::{RouteSpec, RuleSpec};
use crate::tree::Node;

/// What the static blocks of a file hold, in file order.
#[derive(Debug, Default)]
pub(super) struct Statics {
    pub(super) addresses: Vec<VipSpec>,
    pub(super) routes: Vec<RouteSpec>,
    pub(super) rules: Vec<RuleSpec>,
}

impl Statics {
    /// Reads one static block (`node`'s keyword says which).
    pub(super) fn read(&mut self, ctx: &mut Ctx, node: &Node) -> Result<(), ConfError> {
        let section = node.keyword();
        for line in block(node)? {
            match section {
                "static_ipaddress" => {
                    let a = address::address(ctx, line, true)?;
                    if a.dev.is_none() {
                        // keepalived falls back to its default interface (eth0 unless
                        // `default_interface` says otherwise).
                        ctx.warn(line, "static address without dev: placed on eth0, keepalived's default interface");
                    }
                    self.addresses.push(a);
                }
                "static_routes" => self.routes.push(route::route(ctx, line, section)?),
                _ => self.rules.push(rule::rule(ctx, line, section)?),
            }
        }
        Ok(())
    }
}
