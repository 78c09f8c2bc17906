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

impl DesiredService {
    /// Rejects duplicate destinations and invalid values.
    pub fn validate(&self) -> Result<(), Error> {
        self.service.validate()?;
        let mut addrs = HashSet::new();
        for d in &self.destinations {
            d.validate()?;
            if !addrs.insert(d.addr) {
                return Err(Error::Invalid {
                    field: "destination",
                    value: format!("{} listed twice in service {}", d.addr, self.service.key),
                });
            }
        }
        Ok(())
    }
}

impl Desired {
    /// Rejects duplicate services or destinations and invalid values.
    pub fn validate(&self) -> Result<(), Error> {
        let mut keys = HashSet::new();
        for ds in &self.services {
            ds.validate()?;
            if !keys.insert(ds.service.key) {
                return Err(Error::Invalid {
                    field: "service",
                    value: format!("{} listed twice", ds.service.key),
                });
            }
        }
        Ok(())
    }
}

/// What [`crate::IpvsHandle::apply`] or [`crate::IpvsHandle::apply_service`] changed, in
/// the order it was sent.
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
/// kernel) into `desired`, in a safe order: deleted services first, then per service what
/// [`plan_service`] plans for it.
pub fn plan(current: &[(Service, Vec<Destination>)], desired: &Desired) -> Vec<Command> {
    let wanted: HashSet<ServiceKey> = desired.services.iter().map(|d| d.service.key).collect();
    let existing: HashMap<ServiceKey, (&Service, &[Destination])> = current
        .iter()
        .map(|(s, d)| (s.key, (s, d.as_slice())))
        .collect();
    let mut commands: Vec<Command> = current
        .iter()
        .filter(|(service, _)| !wanted.contains(&service.key))
        .map(|(service, _)| Command::DeleteService(service.key))
        .collect();
    for ds in &desired.services {
        commands.extend(plan_service(existing.get(&ds.service.key).copied(), ds));
    }
    commands
}

/// The commands that turn one service's `current` state (`None`: not in the kernel) into
/// `desired`, touching no other service: its creation or update, then destination
/// deletions, updates and additions. A destination present on both sides is updated in
/// place, never deleted and re-added, so its connections survive.
pub fn plan_service(
    current: Option<(&Service, &[Destination])>,
    desired: &DesiredService,
) -> Vec<Command> {
    let key = desired.service.key;
    let Some((service, dests)) = current else {
        let mut commands = vec![Command::AddService(desired.service.clone())];
        commands.extend(
            desired
                .destinations
                .iter()
                .map(|d| Command::AddDestination(key, *d)),
        );
        return commands;
    };
    let mut commands = Vec::new();
    if !service.same_settings(&desired.service) {
        commands.push(Command::UpdateService(desired.service.clone()));
    }
    let want: HashSet<_> = desired.destinations.iter().map(|d| d.addr).collect();
    let have: HashMap<_, _> = dests.iter().map(|d| (d.addr, d)).collect();
    commands.extend(
        dests
            .iter()
            .filter(|d| !want.contains(&d.addr))
            .map(|d| Command::DeleteDestination(key, d.addr)),
    );
    for d in &desired.destinations {
        match have.get(&d.addr) {
            Some(old) if **old == *d => {}
            Some(_) => commands.push(Command::UpdateDestination(key, *d)),
            None => commands.push(Command::AddDestination(key, *d)),
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

    fn one(service: Service, destinations: Vec<Destination>) -> DesiredService {
        DesiredService {
            service,
            destinations,
        }
    }

    #[test]
    fn missing_service_is_created_with_its_destinations() {
        let cmds = plan_service(None, &one(svc(80), vec![dest(1, 2), dest(2, 1)]));
        assert_eq!(
            cmds,
            vec![
                Command::AddService(svc(80)),
                Command::AddDestination(svc(80).key, dest(1, 2)),
                Command::AddDestination(svc(80).key, dest(2, 1)),
            ]
        );
    }

    #[test]
    fn one_service_plan_leaves_destinations_that_stay_in_place() {
        let have = [dest(1, 1), dest(2, 1), dest(3, 1)];
        let cmds = plan_service(
            Some((&svc(80), &have)),
            &one(svc(80), vec![dest(2, 5), dest(3, 1), dest(4, 1)]),
        );
        assert_eq!(
            cmds,
            vec![
                Command::DeleteDestination(svc(80).key, dest(1, 1).addr),
                Command::UpdateDestination(svc(80).key, dest(2, 5)),
                Command::AddDestination(svc(80).key, dest(4, 1)),
            ]
        );
        assert!(
            !cmds.iter().any(|c| matches!(
                c,
                Command::DeleteDestination(_, a) if *a == dest(2, 1).addr || *a == dest(3, 1).addr
            )),
            "a destination that stays was deleted: {cmds:?}"
        );
    }

    #[test]
    fn one_service_plan_updates_settings_and_may_empty_the_service() {
        let have = [dest(1, 1)];
        let persistent = svc(80).persistent(300);
        assert_eq!(
            plan_service(Some((&svc(80), &have)), &one(persistent.clone(), vec![])),
            vec![
                Command::UpdateService(persistent),
                Command::DeleteDestination(svc(80).key, dest(1, 1).addr),
            ]
        );
    }

    #[test]
    fn one_service_plan_of_the_current_state_is_empty() {
        let have = [dest(1, 1), dest(2, 3)];
        let mut listed = svc(80);
        listed.flags = listed.flags | crate::ServiceFlags::HASHED;
        assert!(plan_service(Some((&listed, &have)), &one(svc(80), have.to_vec())).is_empty());
    }

    #[test]
    fn whole_table_plan_is_the_per_service_plans_after_deletions() {
        let state = vec![
            (svc(80), vec![dest(1, 1)]),
            (svc(81), vec![dest(1, 1)]),
            (svc(82), vec![]),
        ];
        let d = desired(vec![
            (svc(80), vec![dest(1, 2)]),
            (svc(83), vec![dest(2, 1)]),
        ]);
        let mut want = vec![
            Command::DeleteService(svc(81).key),
            Command::DeleteService(svc(82).key),
        ];
        want.extend(plan_service(
            Some((&state[0].0, &state[0].1)),
            &d.services[0],
        ));
        want.extend(plan_service(None, &d.services[1]));
        assert_eq!(plan(&state, &d), want);
    }

    #[test]
    fn duplicate_destinations_are_rejected() {
        let d = desired(vec![(svc(80), vec![dest(1, 1), dest(1, 2)])]);
        let err = d.validate().unwrap_err().to_string();
        assert!(err.contains("198.51.100.1:80"), "{err}");
        let err = d.services[0].validate().unwrap_err().to_string();
        assert!(err.contains("198.51.100.1:80"), "{err}");
    }
}
