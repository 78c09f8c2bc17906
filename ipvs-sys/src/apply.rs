//! Reconciliation: the commands that turn the kernel's state into a desired one.

use std::collections::{HashMap, HashSet};

use crate::command::Command;
use crate::error::Error;
use crate::types::{Destination, Service, ServiceKey};

/// A service and the destinations it should have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredService {
    /// The service's configuration.
    pub service: Service,
    /// Its destinations, by address.
    pub destinations: Vec<Destination>,
}

/// The complete IPVS state [`crate::IpvsHandle::apply`] should leave: services not listed are
/// deleted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Desired {
    /// The services, in the order they are created.
    pub services: Vec<DesiredService>,
}

impl Desired {
    /// Rejects duplicate services or destinations and invalid values.
    pub fn validate(&self) -> Result<(), Error> {
        let mut keys = HashSet::new();
        for ds in &self.services {
            ds.service.validate()?;
            if !keys.insert(ds.service.key) {
                return Err(Error::Invalid {
                    field: "service",
                    value: format!("{} listed twice", ds.service.key),
                });
            }
            let mut addrs = HashSet::new();
            for d in &ds.destinations {
                d.validate()?;
                if !addrs.insert(d.addr) {
                    return Err(Error::Invalid {
                        field: "destination",
                        value: format!("{} listed twice in service {}", d.addr, ds.service.key),
                    });
                }
            }
        }
        Ok(())
    }
}

/// What [`crate::IpvsHandle::apply`] changed, in the order it was sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Changes {
    /// The commands sent.
    pub commands: Vec<Command>,
}

impl Changes {
    /// Whether nothing had to change.
    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }
}

/// The commands that turn `current` (services with their destinations, as listed by the
/// kernel) into `desired`, in a safe order: deleted services first, then per service its
/// creation or update, destination deletions, updates and additions. A destination present
/// on both sides is updated in place, never deleted and re-added.
pub fn plan(current: &[(Service, Vec<Destination>)], desired: &Desired) -> Vec<Command> {
    let mut commands = Vec::new();
    let wanted: HashSet<ServiceKey> = desired.services.iter().map(|d| d.service.key).collect();
    let existing: HashMap<ServiceKey, (&Service, &Vec<Destination>)> =
        current.iter().map(|(s, d)| (s.key, (s, d))).collect();

    for (service, _) in current {
        if !wanted.contains(&service.key) {
            commands.push(Command::DeleteService(service.key));
        }
    }
    for ds in &desired.services {
        let key = ds.service.key;
        let Some((svc, dests)) = existing.get(&key) else {
            commands.push(Command::AddService(ds.service.clone()));
            commands.extend(
                ds.destinations
                    .iter()
                    .map(|d| Command::AddDestination(key, *d)),
            );
            continue;
        };
        if !svc.same_settings(&ds.service) {
            commands.push(Command::UpdateService(ds.service.clone()));
        }
        let want: HashMap<_, _> = ds.destinations.iter().map(|d| (d.addr, d)).collect();
        let have: HashMap<_, _> = dests.iter().map(|d| (d.addr, d)).collect();
        for d in dests.iter() {
            if !want.contains_key(&d.addr) {
                commands.push(Command::DeleteDestination(key, d.addr));
            }
        }
        for d in &ds.destinations {
            match have.get(&d.addr) {
                Some(old) if **old == *d => {}
                Some(_) => commands.push(Command::UpdateDestination(key, *d)),
                None => commands.push(Command::AddDestination(key, *d)),
            }
        }
    }
    commands
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::types::{ForwardMethod, Scheduler};

    fn svc(port: u16) -> Service {
        Service::new(
            ServiceKey::tcp(format!("192.0.2.10:{port}").parse().unwrap()),
            Scheduler::RoundRobin,
        )
    }

    fn dest(last: u8, weight: u32) -> Destination {
        Destination::new(format!("198.51.100.{last}:80").parse().unwrap()).weight(weight)
    }

    fn desired(services: Vec<(Service, Vec<Destination>)>) -> Desired {
        Desired {
            services: services
                .into_iter()
                .map(|(service, destinations)| DesiredService {
                    service,
                    destinations,
                })
                .collect(),
        }
    }

    #[test]
    fn from_empty_adds_services_then_their_destinations() {
        let d = desired(vec![(svc(80), vec![dest(1, 1), dest(2, 1)])]);
        let cmds = plan(&[], &d);
        assert_eq!(cmds.len(), 3);
        assert!(matches!(cmds[0], Command::AddService(_)));
        assert!(matches!(cmds[1], Command::AddDestination(_, _)));
    }

    #[test]
    fn identical_state_plans_nothing() {
        let state = vec![(svc(80), vec![dest(1, 1), dest(2, 3)])];
        assert!(plan(&state, &desired(state.clone())).is_empty());
    }

    #[test]
    fn kernel_hashed_flag_is_not_a_difference() {
        let mut listed = svc(80);
        listed.flags = listed.flags | crate::ServiceFlags::HASHED;
        assert!(plan(&[(listed, vec![])], &desired(vec![(svc(80), vec![])])).is_empty());
    }

    #[test]
    fn weight_change_updates_in_place_without_delete() {
        let state = vec![(svc(80), vec![dest(1, 1), dest(2, 1)])];
        let cmds = plan(
            &state,
            &desired(vec![(svc(80), vec![dest(1, 1), dest(2, 0)])]),
        );
        assert_eq!(
            cmds,
            vec![Command::UpdateDestination(svc(80).key, dest(2, 0))]
        );
    }

    #[test]
    fn forward_method_change_is_an_update() {
        let state = vec![(svc(80), vec![dest(1, 1)])];
        let routed = dest(1, 1).forward(ForwardMethod::DirectRoute);
        let cmds = plan(&state, &desired(vec![(svc(80), vec![routed])]));
        assert_eq!(cmds, vec![Command::UpdateDestination(svc(80).key, routed)]);
    }

    #[test]
    fn removed_destinations_and_services_are_deleted_first() {
        let state = vec![
            (svc(80), vec![dest(1, 1), dest(2, 1)]),
            (svc(81), vec![dest(1, 1)]),
        ];
        let cmds = plan(
            &state,
            &desired(vec![(svc(80), vec![dest(2, 1), dest(3, 1)])]),
        );
        assert_eq!(
            cmds,
            vec![
                Command::DeleteService(svc(81).key),
                Command::DeleteDestination(svc(80).key, dest(1, 1).addr),
                Command::AddDestination(svc(80).key, dest(3, 1)),
            ]
        );
    }

    #[test]
    fn scheduler_change_updates_the_service() {
        let state = vec![(svc(80), vec![])];
        let mut wrr = svc(80);
        wrr.scheduler = Scheduler::WeightedRoundRobin;
        assert_eq!(
            plan(&state, &desired(vec![(wrr.clone(), vec![])])),
            vec![Command::UpdateService(wrr)]
        );
    }

    #[test]
    fn duplicate_destinations_are_rejected() {
        let d = desired(vec![(svc(80), vec![dest(1, 1), dest(1, 2)])]);
        let err = d.validate().unwrap_err().to_string();
        assert!(err.contains("198.51.100.1:80"), "{err}");
    }
}
