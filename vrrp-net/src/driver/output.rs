//! Carrying out what the routers ask: adverts on the wire, VIPs in the kernel, announcements,
//! events, sync-group bookkeeping.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use vrrp_core::{Input, Output};

use super::{Driver, Event, Fault};
use crate::announce::{gratuitous_arp, unsolicited_na};

impl Driver {
    /// Carries out every pending output, in order, including those caused by sync-group
    /// commands delivered on the way.
    pub(super) async fn drain(&mut self, now: Instant) {
        while let Some(slot) = self.dirty.pop() {
            while let Some(output) = self.slots[slot].router.poll() {
                self.output(now, slot, output).await;
            }
        }
    }

    async fn output(&mut self, now: Instant, slot: usize, output: Output) {
        if let Some((g, member)) = self.slots[slot].group {
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
                let Some(transport) = self.transports.get(&self.slots[slot].tx_key).cloned() else {
                    return;
                };
                for dst in self.slots[slot].dsts.clone() {
                    let Some(len) = advert.emit_into(dst, &mut self.buf) else {
                        continue;
                    };
                    let ttl = self.slots[slot].ttl;
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
                for va in addresses.iter() {
                    let Some(vip) = self.slots[slot].vips.get(&va.address).cloned() else {
                        continue;
                    };
                    if let Err(error) = self.vips.add(&vip).await {
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
                }
            }
            Output::RemoveVips { addresses } => {
                for va in addresses.iter() {
                    let Some(vip) = self.slots[slot].vips.get(&va.address).cloned() else {
                        continue;
                    };
                    if let Err(error) = self.vips.remove(&vip).await {
                        let instance = self.slots[slot].router.config().name.clone();
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
            Output::Announce { addresses } => {
                for va in addresses.iter() {
                    let Some(vip) = self.slots[slot].vips.get(&va.address) else {
                        continue;
                    };
                    let Some(announcer) = self.announcers.get(&vip.ifindex) else {
                        // Not a kernel interface: the custom transport is told instead.
                        if let Some(t) = self
                            .transports
                            .get(&(vip.ifindex, self.slots[slot].tx_key.1))
                        {
                            t.announce(va.address);
                        }
                        continue;
                    };
                    let frame = match va.address {
                        IpAddr::V4(a) => gratuitous_arp(announcer.mac, a),
                        IpAddr::V6(a) => unsolicited_na(
                            announcer.mac,
                            announcer.link_local.unwrap_or(a),
                            a,
                            false,
                        ),
                    };
                    if let Err(error) = announcer.socket.send(&frame, va.address) {
                        let instance = self.slots[slot].router.config().name.clone();
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
            Output::StateChanged { from, to, reason } => {
                let router = &self.slots[slot].router;
                let instance = router.config().name.clone();
                let priority = router.priority();
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
                let instance = self.slots[slot].router.config().name.clone();
                tracing::info!(%instance, from = from.get(), to = to.get(), "priority change");
                self.emit(Event::PriorityChanged { instance, from, to });
            }
            // Sync-group bookkeeping, observed above.
            _ => {}
        }
    }
}
