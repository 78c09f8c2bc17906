//! Carrying out what the routers ask: adverts on the wire, VIPs in the kernel, announcements,
//! events, watch views, sync-group bookkeeping.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use vrrp_core::{Input, Output, VirtualAddress};

use super::{Driver, Event, Fault};
use crate::announce::{gratuitous_arp, unsolicited_na};

impl Driver {
    /// Carries out every pending output, in order, including those caused by sync-group
    /// commands delivered on the way.
    pub(super) async fn drain(&mut self, now: Instant) {
        while let Some(slot) = self.dirty.pop() {
            while let Some(output) = self.slot_mut(slot).and_then(|s| s.router.poll()) {
                self.output(now, slot, output).await;
            }
        }
        self.refresh_will(now);
    }

    async fn output(&mut self, now: Instant, slot: usize, output: Output) {
        let Some(s) = self.slot(slot) else { return };
        if let Some((g, member)) = s.group {
            let mut commands = Vec::new();
            self.groups[g].group.observe(member, &output, &mut commands);
            for (m, command) in commands {
                let target = self.groups[g].members[m];
                self.feed(now, target, Input::Group(command));
            }
        }
        match output {
            // keepalived's old_unicast_checksum is the core's ChecksumMode::PseudoHeaderTo:
            // the advert's checksum context already names the right pseudo-header address.
            Output::Transmit(advert) => {
                let Some(s) = self.slot(slot) else { return };
                let Some(transport) = self.wiring.transports.get(&s.tx_key).cloned() else {
                    return;
                };
                let (dsts, ttl) = (s.dsts.clone(), s.ttl);
                for dst in dsts {
                    let Some(len) = advert.emit_into(dst, &mut self.buf) else {
                        continue;
                    };
                    if let Err(error) = transport
                        .send_with_ttl(advert.source, dst, &self.buf[..len], ttl)
                        .await
                    {
                        self.fault(
                            now,
                            slot,
                            Fault::Send {
                                dst,
                                error: Arc::new(error),
                            },
                        );
                        return;
                    }
                }
            }
            Output::InstallVips { addresses, .. } => {
                self.will_stale = true;
                self.install(now, slot, &addresses).await;
            }
            Output::RemoveVips { addresses } => {
                self.will_stale = true;
                self.remove(slot, &addresses).await;
            }
            Output::Announce { addresses } => self.announce(slot, &addresses),
            Output::StateChanged { from, to, reason } => {
                self.will_stale = true;
                let Some(s) = self.slot(slot) else { return };
                let instance = s.router.config().name.clone();
                let priority = s.router.priority();
                s.view.send_modify(|v| {
                    v.state = to;
                    v.priority = priority;
                });
                tracing::info!(%instance, %from, %to, %reason, "state change");
                self.emit(Event::StateChanged {
                    instance,
                    from,
                    to,
                    reason,
                    priority,
                });
            }
            Output::PriorityChanged { from, to } => {
                self.will_stale = true;
                let Some(s) = self.slot(slot) else { return };
                let instance = s.router.config().name.clone();
                s.view.send_modify(|v| v.priority = to);
                tracing::info!(%instance, from = from.get(), to = to.get(), "priority change");
                self.emit(Event::PriorityChanged { instance, from, to });
            }
            // Sync-group bookkeeping, observed above.
            _ => {}
        }
    }

    async fn install(&mut self, now: Instant, slot: usize, addresses: &[VirtualAddress]) {
        let mut installed = Vec::with_capacity(addresses.len());
        for va in addresses {
            let Some(vip) = self
                .slot(slot)
                .and_then(|s| s.vips.get(&va.address).cloned())
            else {
                continue;
            };
            if let Err(error) = self.vips.add(&vip).await {
                self.installed(slot, installed);
                self.fault(
                    now,
                    slot,
                    Fault::VipAdd {
                        vip,
                        error: Arc::new(error),
                    },
                );
                return;
            }
            installed.push(va.address);
        }
        self.installed(slot, installed);
    }

    /// Records and reports addresses now installed.
    fn installed(&mut self, slot: usize, addresses: Vec<IpAddr>) {
        let Some(s) = self.slot(slot) else { return };
        if addresses.is_empty() {
            return;
        }
        s.view.send_modify(|v| {
            for a in &addresses {
                if !v.addresses.contains(a) {
                    v.addresses.push(*a);
                }
            }
        });
        let instance = s.router.config().name.clone();
        self.emit(Event::AddressesInstalled {
            instance,
            addresses,
        });
    }

    async fn remove(&mut self, slot: usize, addresses: &[VirtualAddress]) {
        let mut removed = Vec::with_capacity(addresses.len());
        for va in addresses {
            let Some(s) = self.slot(slot) else { return };
            let Some(vip) = s
                .retiring
                .get(&va.address)
                .or_else(|| s.vips.get(&va.address))
                .cloned()
            else {
                continue;
            };
            match self.vips.remove(&vip).await {
                Ok(()) => removed.push(va.address),
                Err(error) => {
                    let instance = self.name_of(slot);
                    tracing::warn!(%instance, %vip, %error, "cannot remove a virtual address");
                    self.emit(Event::Fault {
                        instance: Some(instance),
                        fault: Fault::VipRemove {
                            vip,
                            error: Arc::new(error),
                        },
                    });
                }
            }
        }
        let Some(s) = self.slot(slot) else { return };
        // Whatever could not be removed is no longer ours either: the router has let it go.
        s.view.send_modify(|v| {
            v.addresses
                .retain(|a| !addresses.iter().any(|va| va.address == *a));
        });
        if !removed.is_empty() {
            let instance = s.router.config().name.clone();
            self.emit(Event::AddressesRemoved {
                instance,
                addresses: removed,
            });
        }
    }

    fn announce(&mut self, slot: usize, addresses: &[VirtualAddress]) {
        let Some(s) = self.slot(slot) else { return };
        for va in addresses {
            let Some(vip) = s.vips.get(&va.address) else {
                continue;
            };
            let Some(announcer) = self.wiring.announcers.get(&vip.ifindex) else {
                // Not a kernel interface: the custom transport is told instead.
                if let Some(t) = self.wiring.transports.get(&(vip.ifindex, s.tx_key.1)) {
                    t.announce(va.address);
                }
                continue;
            };
            let frame = match va.address {
                IpAddr::V4(a) => gratuitous_arp(announcer.mac, a),
                IpAddr::V6(a) => {
                    unsolicited_na(announcer.mac, announcer.link_local.unwrap_or(a), a, false)
                }
            };
            if let Err(error) = announcer.socket.send(&frame, va.address) {
                let instance = s.router.config().name.clone();
                tracing::warn!(%instance, %error, "cannot announce");
                self.emit(Event::Fault {
                    instance: Some(instance),
                    fault: Fault::Announce {
                        error: Arc::new(error),
                    },
                });
            }
        }
    }
}
