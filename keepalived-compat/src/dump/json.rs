//! `keepalived.json`: keepalived 2.2.7's JSON dump (`vrrp/vrrp_json.c`), key for key.
//!
//! An array with one `{"data": {...}, "stats": {...}}` object per instance. Keys keepalived
//! writes only when set (the notify scripts, the address and tracking lists, `auth_data`)
//! are left out the same way. Fields this daemon does not model carry the value keepalived
//! 2.2.7 writes for a configuration without the matching keyword; each says so below. The
//! bytes follow keepalived's writer too: compact, `/` escaped as `\/`, whole numbers of
//! its `%g` fields without a fraction.

use std::io;
use std::time::{SystemTime, UNIX_EPOCH};

use keepalived_conf::GlobalDefs;
use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter};
use vrrp_core::Version;
use vrrp_core::config::AddressCheck;
use vrrp_core::wire::Auth;

use super::counters::Counters;
use super::text::address_line;
use super::{View, command_line, state_number};

/// One element of the array.
#[derive(Serialize)]
struct Entry<'a> {
    data: Data<'a>,
    stats: Counters,
}

/// `"data"`, in `vrrp_json_data_dump`'s order.
#[derive(Serialize)]
struct Data<'a> {
    iname: &'a str,
    /// `dont_track_primary` is not modelled: keepalived's 0.
    dont_track_primary: u8,
    skip_check_adv_addr: u8,
    strict_mode: u8,
    vmac_ifname: &'a str,
    ifp_ifname: &'a str,
    /// The priority of the master heard last is not kept by the driver: 0, keepalived's value
    /// until a backup has heard a master (and a master's own).
    master_priority: u8,
    last_transition: f64,
    garp_delay: f64,
    garp_refresh: u64,
    garp_rep: u32,
    garp_refresh_rep: u32,
    /// `garp_lower_prio_delay` is not modelled: keepalived's default, the global
    /// `vrrp_garp_master_delay` (5 s unless set).
    garp_lower_prio_delay: u64,
    /// `garp_lower_prio_repeat` is not modelled: keepalived's default, the global
    /// `vrrp_garp_master_repeat`.
    garp_lower_prio_rep: u32,
    lower_prio_no_advert: u8,
    higher_prio_send_advert: u8,
    vrid: u8,
    base_priority: u8,
    effective_priority: u8,
    vipset: bool,
    /// `promote_secondaries` is not modelled: keepalived's default, false.
    promote_secondaries: bool,
    adver_int: f64,
    /// The master's advertised interval is not kept by the driver: our own, which is what
    /// keepalived reports while master or before hearing one.
    master_adver_int: f64,
    accept: u8,
    nopreempt: bool,
    preempt_delay: u64,
    state: u8,
    /// The driver has no pending state: the current one, as keepalived's at rest.
    wantstate: u8,
    version: u8,
    /// `smtp_alert` is not modelled: keepalived's default, false.
    smtp_alert: bool,
    /// `notify_deleted` is not modelled: keepalived's default, false.
    notify_deleted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    script_backup: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    script_master: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    script_fault: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    script_stop: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    script: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    vips: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    evips: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    track_ifp: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    track_script: Vec<String>,
    auth_type: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_data: Option<String>,
}

fn flag(b: bool) -> u8 {
    u8::from(b)
}

fn secs(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

fn data<'a>(
    global: &GlobalDefs,
    v: &'a View<'a>,
    scripts: &[keepalived_conf::VrrpScript],
) -> Data<'a> {
    let c = &v.configured.config;
    let i = &v.configured.conf;
    let a = &c.announce;
    let garp_delay = a.second_round_delay.unwrap_or_default();
    let state = state_number(v.status.state);
    let adver_int = c.advert_interval.as_duration().as_secs_f64();
    let (auth_type, auth_data) = match &c.auth {
        Auth::SimpleText(p) => {
            let text = p
                .data()
                .iter()
                .take_while(|b| **b != 0)
                .map(|b| char::from(*b));
            (1, Some(text.collect()))
        }
        other => (other.auth_type(), None),
    };
    Data {
        iname: &i.name,
        dont_track_primary: 0,
        skip_check_adv_addr: flag(c.address_check != AddressCheck::Always),
        strict_mode: flag(global.strict),
        vmac_ifname: v.configured.vmac.as_deref().unwrap_or(""),
        ifp_ifname: v.ifp_name(),
        master_priority: 0,
        last_transition: secs(v.last_transition),
        garp_delay: garp_delay.as_secs_f64(),
        garp_refresh: a.refresh.unwrap_or_default().as_secs(),
        garp_rep: a.repeat,
        garp_refresh_rep: a.refresh_repeat,
        garp_lower_prio_delay: global.garp_master_delay.as_secs(),
        garp_lower_prio_rep: global.garp_master_repeat,
        lower_prio_no_advert: flag(!c.lower_prio_advert),
        higher_prio_send_advert: flag(c.higher_prio_send_advert),
        vrid: c.vrid.get(),
        base_priority: c.priority.get(),
        effective_priority: v.status.priority.get(),
        vipset: v.vips_set(),
        promote_secondaries: false,
        adver_int,
        master_adver_int: adver_int,
        accept: flag(c.accept_mode),
        nopreempt: !c.preempt,
        preempt_delay: c.preempt_delay.as_secs(),
        state,
        wantstate: state,
        version: match c.version {
            Version::V2 => 2,
            Version::V3 => 3,
        },
        smtp_alert: false,
        notify_deleted: false,
        script_backup: i.notify.backup.as_deref().map(command_line),
        script_master: i.notify.master.as_deref().map(command_line),
        script_fault: i.notify.fault.as_deref().map(command_line),
        script_stop: i.notify.stop.as_deref().map(command_line),
        script: i.notify.any.as_deref().map(command_line),
        vips: i.vips.iter().map(|s| address_line(v, s)).collect(),
        evips: i.vips_excluded.iter().map(|s| address_line(v, s)).collect(),
        track_ifp: i.track_interfaces.iter().map(|t| t.name.clone()).collect(),
        track_script: i
            .track_scripts
            .iter()
            .filter_map(|t| scripts.iter().find(|s| s.name == t.name))
            .map(|s| command_line(&s.script))
            .collect(),
        auth_type,
        auth_data,
    }
}

/// keepalived's JSON writer: compact, `/` escaped, `%g` numbers.
struct KeepalivedFormatter(CompactFormatter);

impl Formatter for KeepalivedFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut parts = fragment.split('/');
        if let Some(first) = parts.next() {
            self.0.write_string_fragment(writer, first)?;
        }
        for part in parts {
            writer.write_all(b"\\/")?;
            self.0.write_string_fragment(writer, part)?;
        }
        Ok(())
    }

    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        // Whole values print as integers (`%g`); the rest with Rust's shortest exact form.
        if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e15 {
            write!(writer, "{value:.0}")
        } else {
            self.0.write_f64(writer, value)
        }
    }
}

/// The JSON dump of `views`.
pub(super) fn render(
    global: &GlobalDefs,
    scripts: &[keepalived_conf::VrrpScript],
    views: &[View<'_>],
) -> io::Result<Vec<u8>> {
    let entries: Vec<Entry<'_>> = views
        .iter()
        .map(|v| Entry {
            data: data(global, v, scripts),
            stats: v.counters,
        })
        .collect();
    let mut out = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut out, KeepalivedFormatter(CompactFormatter));
    entries.serialize(&mut ser).map_err(io::Error::other)?;
    Ok(out)
}
