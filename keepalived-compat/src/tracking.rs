//! The tracked objects `track_process` and `track_file` add to an instance, and their
//! states at start (or reload) before the instance runs, so an instance whose process
//! has no quorum starts in FAULT as with keepalived instead of learning it just after.

use std::collections::HashMap;

use keepalived_conf::{KeepalivedConf, VrrpInstance};
use vrrp_core::{TrackState, TrackedObject};
use vrrp_net::driver::Instance;

use crate::scripts::reversed_name;
use crate::{track_file, track_process};

/// The tracked objects of `i`'s `track_process` and `track_file` blocks (each starting
/// up, a reversed one down; see [`prepare`] for the real first states).
pub(crate) fn objects(conf: &KeepalivedConf, i: &VrrpInstance) -> Vec<TrackedObject> {
    let mut out = Vec::new();
    for t in &i.track_processes {
        let block = conf.track_processes.iter().find(|p| p.name == t.name);
        let weight = t.weight.unwrap_or(block.map_or(0, |p| p.weight));
        let reverse = t.reverse.unwrap_or(block.is_some_and(|p| p.weight_reverse));
        let name = track_process::object_name(&t.name);
        // As for scripts: `reverse` is the opposite state with the opposite weight.
        out.push(if reverse {
            TrackedObject::new(reversed_name(&name), -weight).starting_down()
        } else {
            TrackedObject::new(name, weight)
        });
    }
    for t in &i.track_files {
        // The FAULT part only; the value's weight goes to the base priority.
        out.push(TrackedObject::new(
            track_file::object_name(&t.name, &i.name),
            0,
        ));
    }
    out
}

fn set_initial(instance: &mut Instance, name: &str, state: TrackState) {
    if let Some(o) = instance.config.track.iter_mut().find(|o| o.name == name) {
        o.initial = state;
    }
}

/// Gives `instances` (mapped from `conf`) the states their tracked processes and files
/// are in now: `processes` by block name (quorum held), file `values` by block name.
pub(crate) fn prepare(
    conf: &KeepalivedConf,
    instances: &mut [Instance],
    processes: &HashMap<String, bool>,
    values: &HashMap<String, i64>,
) {
    for instance in instances {
        let Some(i) = conf
            .instances
            .iter()
            .find(|i| i.name == instance.config.name)
        else {
            continue;
        };
        for t in &i.track_processes {
            let Some(up) = processes.get(&t.name) else {
                continue;
            };
            let (plain, reversed) = if *up {
                (TrackState::Up, TrackState::Down)
            } else {
                (TrackState::Down, TrackState::Up)
            };
            let name = track_process::object_name(&t.name);
            set_initial(instance, &reversed_name(&name), reversed);
            set_initial(instance, &name, plain);
        }
        if i.track_files.is_empty() {
            continue;
        }
        let (offset, faults) = track_file::effects(conf, i, values);
        for (name, fault) in faults {
            let state = if fault {
                TrackState::Down
            } else {
                TrackState::Up
            };
            set_initial(instance, &name, state);
        }
        instance.config.priority = track_file::priority(i, offset);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const CONF: &str = "vrrp_track_process P {\nprocess sleep\nweight 10 reverse\n}\n\
        vrrp_track_process Q {\nprocess nginx\n}\n\
        track_file F {\nfile /run/f\nweight 5\n}\n\
        vrrp_instance A {\ninterface eth0\nvirtual_router_id 7\npriority 100\n\
        virtual_ipaddress {\n192.0.2.7\n}\n\
        track_process {\nP\nQ weight -20\n}\ntrack_file {\nF\n}\n}\n";

    #[test]
    fn processes_and_files_become_tracked_objects_with_their_states() {
        let conf = keepalived_conf::parse_str("k.conf", CONF).unwrap();
        let (mut instance, _) =
            crate::mapping::instance(&conf, &conf.instances[0], "192.0.2.1".parse().unwrap())
                .unwrap();
        let seen = |i: &Instance| {
            i.config
                .track
                .iter()
                .map(|o| (o.name.clone(), o.weight, o.initial))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            seen(&instance),
            [
                ("process P reverse".to_owned(), -10, TrackState::Down),
                ("process Q".to_owned(), -20, TrackState::Up),
                ("file F A".to_owned(), 0, TrackState::Up),
            ]
        );
        let processes = HashMap::from([("P".to_owned(), false), ("Q".to_owned(), false)]);
        let values = HashMap::from([("F".to_owned(), 3)]);
        prepare(
            &conf,
            std::slice::from_mut(&mut instance),
            &processes,
            &values,
        );
        assert_eq!(
            seen(&instance),
            [
                ("process P reverse".to_owned(), -10, TrackState::Up),
                ("process Q".to_owned(), -20, TrackState::Down),
                ("file F A".to_owned(), 0, TrackState::Up),
            ]
        );
        assert_eq!(instance.config.priority.get(), 115);
        let values = HashMap::from([("F".to_owned(), -60)]);
        prepare(
            &conf,
            std::slice::from_mut(&mut instance),
            &processes,
            &values,
        );
        assert_eq!(instance.config.track[2].initial, TrackState::Down);
    }
}
