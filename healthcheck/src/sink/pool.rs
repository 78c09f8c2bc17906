//! An IPVS virtual service's real servers, managed with keepalived's rules.
//!
//! [`Pool`] is pure: events in, table operations out. [`PoolSink`] applies those
//! operations through a [`PoolBackend`] (IPVS via `ipvs-sys` with the `ipvs` feature,
//! or anything else with the same shape).

use crate::{Change, ConfigError, Event, Health};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// A destination (real server or sorry server) and its weight: a plain value, what
/// [`PoolBackend`] implementations are handed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dest {
    /// The destination's address and port.
    pub addr: SocketAddr,
    /// Its IPVS weight.
    pub weight: u32,
}

impl Dest {
    /// `addr` with `weight`.
    pub const fn new(addr: SocketAddr, weight: u32) -> Self {
        Dest { addr, weight }
    }
}

/// keepalived's virtual-server options that shape the table.
///
/// Start from [`PoolConfig::default`] and chain the setters:
/// `PoolConfig::default().quorum(2).hysteresis(1)`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolConfig {
    /// Minimum sum of live weights for the service to be "up" (keepalived `quorum`,
    /// default 1).
    pub quorum: u32,
    /// Quorum is gained at `quorum + hysteresis` and lost below
    /// `quorum - hysteresis` (or when no live weight is left).
    pub hysteresis: u32,
    /// Keep failed real servers in the table with weight 0 instead of removing them
    /// (keepalived `inhibit_on_failure`), so established connections survive.
    pub inhibit_on_failure: bool,
    /// Added while quorum is lost, replacing the remaining live real servers
    /// (keepalived `sorry_server`).
    pub sorry_server: Option<Dest>,
}

impl PoolConfig {
    /// Sets [`PoolConfig::quorum`].
    pub fn quorum(mut self, quorum: u32) -> Self {
        self.quorum = quorum;
        self
    }

    /// Sets [`PoolConfig::hysteresis`].
    pub fn hysteresis(mut self, hysteresis: u32) -> Self {
        self.hysteresis = hysteresis;
        self
    }

    /// Sets [`PoolConfig::inhibit_on_failure`].
    pub fn inhibit_on_failure(mut self, inhibit: bool) -> Self {
        self.inhibit_on_failure = inhibit;
        self
    }

    /// Sets [`PoolConfig::sorry_server`].
    pub fn sorry_server(mut self, sorry: Dest) -> Self {
        self.sorry_server = Some(sorry);
        self
    }
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            quorum: 1,
            hysteresis: 0,
            inhibit_on_failure: false,
            sorry_server: None,
        }
    }
}

/// One change to make to the service, or a quorum notification, in the order they
/// must happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PoolOp {
    /// Quorum was gained (keepalived's `quorum_up` notification).
    QuorumUp {
        /// Sum of live weights.
        live_weight: u64,
    },
    /// Quorum was lost (keepalived's `quorum_down` notification).
    QuorumDown {
        /// Sum of live weights.
        live_weight: u64,
    },
    /// Add a destination.
    Add(Dest),
    /// Change the weight of a destination already in the table.
    SetWeight(Dest),
    /// Remove a destination.
    Remove(SocketAddr),
}

#[derive(Debug, Clone, Copy)]
struct Real {
    weight: u32,
    health: Health,
}

/// The real servers of one virtual service, their health, the quorum state and a
/// model of the table as last applied.
#[derive(Debug)]
pub struct Pool {
    config: PoolConfig,
    reals: BTreeMap<SocketAddr, Real>,
    quorum_up: bool,
    table: BTreeMap<SocketAddr, u32>,
}

impl Pool {
    /// A pool of real servers with their starting health (normally each target's
    /// `schedule.initial`). Nothing is applied until [`Pool::startup`].
    pub fn new(
        config: PoolConfig,
        reals: impl IntoIterator<Item = (Dest, Health)>,
    ) -> Result<Self, ConfigError> {
        let mut map = BTreeMap::new();
        for (dest, health) in reals {
            let real = Real {
                weight: dest.weight,
                health,
            };
            if map.insert(dest.addr, real).is_some() {
                return Err(ConfigError::DuplicateReal(dest.addr));
            }
        }
        if let Some(sorry) = config.sorry_server
            && map.contains_key(&sorry.addr)
        {
            return Err(ConfigError::SorryIsReal(sorry.addr));
        }
        Ok(Pool {
            config,
            reals: map,
            // keepalived assumes quorum at start and re-evaluates at once
            quorum_up: true,
            table: BTreeMap::new(),
        })
    }

    /// The operations that build the table from empty.
    pub fn startup(&mut self) -> Vec<PoolOp> {
        self.update()
    }

    /// Applies one scheduler event, matched by address: a [`Change::Added`] target joins
    /// in its initial health (or updates the real server of that address), a
    /// [`Change::Removed`] one leaves (its destination is removed, even with
    /// `inhibit_on_failure`, as keepalived does for a real server gone from its
    /// configuration), any other event updates a known real server's health and weight.
    /// Quorum is re-evaluated after each.
    ///
    /// Feed a pool the events of its own service's targets only: other events for
    /// addresses outside the pool change nothing, but an added target joins. An added
    /// target at the sorry server's address is ignored.
    pub fn handle_event(&mut self, event: &Event) -> Vec<PoolOp> {
        let dest = Dest::new(event.addr, event.weight);
        match event.change {
            Change::Removed => self.remove_real(event.addr),
            Change::Added => self.set_real(dest, event.health).unwrap_or_default(),
            _ => {
                let Some(real) = self.reals.get_mut(&event.addr) else {
                    return Vec::new();
                };
                real.health = event.health;
                real.weight = event.weight;
                self.update()
            }
        }
    }

    /// Adds a real server, or sets the weight and health of the one at `dest.addr`, and
    /// returns the operations (quorum re-evaluated). Refused for the sorry server's address.
    pub fn set_real(&mut self, dest: Dest, health: Health) -> Result<Vec<PoolOp>, ConfigError> {
        if self
            .config
            .sorry_server
            .is_some_and(|s| s.addr == dest.addr)
        {
            return Err(ConfigError::SorryIsReal(dest.addr));
        }
        let real = Real {
            weight: dest.weight,
            health,
        };
        self.reals.insert(dest.addr, real);
        Ok(self.update())
    }

    /// Removes a real server and returns the operations (its destination removed, quorum
    /// re-evaluated); nothing for an address outside the pool.
    pub fn remove_real(&mut self, addr: SocketAddr) -> Vec<PoolOp> {
        if self.reals.remove(&addr).is_none() {
            return Vec::new();
        }
        self.update()
    }

    /// Takes new settings (quorum, hysteresis, sorry server, `inhibit_on_failure`) and
    /// returns the operations they cause. Refused, changing nothing, if the new sorry
    /// server is one of the real servers.
    pub fn reconfigure(&mut self, config: PoolConfig) -> Result<Vec<PoolOp>, ConfigError> {
        if let Some(sorry) = config.sorry_server
            && self.reals.contains_key(&sorry.addr)
        {
            return Err(ConfigError::SorryIsReal(sorry.addr));
        }
        self.config = config;
        Ok(self.update())
    }

    /// The settings.
    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    /// The health and weight of the real server at `addr`.
    pub fn real(&self, addr: SocketAddr) -> Option<(Health, u32)> {
        self.reals.get(&addr).map(|r| (r.health, r.weight))
    }

    /// The real servers' addresses, in order.
    pub fn reals(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        self.reals.keys().copied()
    }

    /// Whether the service currently has quorum.
    pub fn has_quorum(&self) -> bool {
        self.quorum_up
    }

    /// Sum of the weights of live real servers.
    pub fn live_weight(&self) -> u64 {
        self.reals
            .values()
            .filter(|r| r.health == Health::Up)
            .map(|r| u64::from(r.weight))
            .sum()
    }

    /// The table as it should be now (what [`PoolSink::resync`] brings the backend to).
    pub fn desired(&self) -> Vec<Dest> {
        let sorry = match self.config.sorry_server {
            Some(s) if !self.quorum_up => Some(s),
            _ => None,
        };
        let mut out = Vec::new();
        for (addr, real) in &self.reals {
            let weight = match (real.health, sorry.is_some(), self.config.inhibit_on_failure) {
                (Health::Up, false, _) => Some(real.weight),
                (_, _, true) => Some(0),
                _ => None,
            };
            if let Some(weight) = weight {
                out.push(Dest {
                    addr: *addr,
                    weight,
                });
            }
        }
        out.extend(sorry);
        out
    }

    /// Re-evaluates quorum, then diffs the desired table against the model: quorum
    /// notification first, then additions, weight changes and removals last, so the
    /// service is never left empty while the sorry server swaps in or out.
    fn update(&mut self) -> Vec<PoolOp> {
        let mut ops = Vec::new();
        let live_weight = self.live_weight();
        let q = u64::from(self.config.quorum);
        let h = u64::from(self.config.hysteresis);
        if !self.quorum_up && live_weight >= q + h {
            self.quorum_up = true;
            ops.push(PoolOp::QuorumUp { live_weight });
        } else if self.quorum_up && (live_weight == 0 || live_weight < q.saturating_sub(h)) {
            self.quorum_up = false;
            ops.push(PoolOp::QuorumDown { live_weight });
        }
        let desired: BTreeMap<SocketAddr, u32> = self
            .desired()
            .into_iter()
            .map(|d| (d.addr, d.weight))
            .collect();
        let mut adds = Vec::new();
        let mut sets = Vec::new();
        for (addr, weight) in &desired {
            let dest = Dest {
                addr: *addr,
                weight: *weight,
            };
            match self.table.get(addr) {
                None => adds.push(PoolOp::Add(dest)),
                Some(w) if w != weight => sets.push(PoolOp::SetWeight(dest)),
                Some(_) => {}
            }
        }
        let removes = self
            .table
            .keys()
            .filter(|a| !desired.contains_key(a))
            .map(|a| PoolOp::Remove(*a));
        ops.extend(adds);
        ops.extend(sets);
        ops.extend(removes);
        self.table = desired;
        ops
    }
}

/// Where a [`PoolSink`] applies its operations: one virtual service's destinations.
#[async_trait]
pub trait PoolBackend: Send {
    /// The backend's failure type.
    type Error: std::error::Error + Send + Sync + 'static;
    /// Adds a destination.
    async fn add_dest(&mut self, dest: Dest) -> Result<(), Self::Error>;
    /// Changes a destination's weight.
    async fn set_weight(&mut self, dest: Dest) -> Result<(), Self::Error>;
    /// Removes a destination.
    async fn remove_dest(&mut self, addr: SocketAddr) -> Result<(), Self::Error>;
    /// Makes the service hold exactly `dests`, whatever it holds now: creates the service
    /// if the backend can and it is missing, removes destinations left by an earlier run
    /// or by someone else, fixes weights, and leaves destinations that stay in place (their
    /// connections survive). [`PoolSink`] calls it at startup and to recover after an
    /// error.
    async fn sync(&mut self, dests: &[Dest]) -> Result<(), Self::Error>;
}

/// A [`Pool`] wired to a [`PoolBackend`].
///
/// Single operations are applied while the backend is known to match the pool; after a
/// backend error it is not, and the sink reconciles the whole table
/// ([`PoolBackend::sync`] with [`Pool::desired`]) on the next event or on
/// [`PoolSink::resync`], whichever comes first.
#[derive(Debug)]
pub struct PoolSink<B> {
    pool: Pool,
    backend: B,
    in_sync: bool,
}

impl<B: PoolBackend> PoolSink<B> {
    /// Wraps a pool and a backend; call [`PoolSink::startup`] next.
    pub fn new(pool: Pool, backend: B) -> Self {
        PoolSink {
            pool,
            backend,
            in_sync: false,
        }
    }

    /// Builds the initial table: brings the backend to [`Pool::desired`] in one
    /// [`PoolBackend::sync`] (so a table left by an earlier run is adopted and cleaned, and
    /// the IPVS backend creates its service). Returns the pool's startup operations (quorum
    /// notifications included) that this sync carried out.
    pub async fn startup(&mut self) -> Result<Vec<PoolOp>, B::Error> {
        let ops = self.pool.startup();
        self.resync().await?;
        Ok(ops)
    }

    /// Applies one event and returns the pool's operations, in order. If the backend was
    /// out of sync (an earlier error), the whole table is reconciled instead of applying
    /// the operations one by one. On error the pool's model is ahead of the backend: the
    /// next event, or [`PoolSink::resync`], repairs it.
    pub async fn handle_event(&mut self, event: &Event) -> Result<Vec<PoolOp>, B::Error> {
        let ops = self.pool.handle_event(event);
        if self.in_sync {
            if let Err(e) = self.apply(&ops).await {
                self.in_sync = false;
                return Err(e);
            }
        } else {
            self.resync().await?;
        }
        Ok(ops)
    }

    /// Brings the backend to [`Pool::desired`] with one [`PoolBackend::sync`], whatever
    /// happened before (a failed operation, a table changed by someone else).
    pub async fn resync(&mut self) -> Result<(), B::Error> {
        self.in_sync = false;
        self.backend.sync(&self.pool.desired()).await?;
        self.in_sync = true;
        Ok(())
    }

    /// Whether the backend is known to match the pool (false before
    /// [`PoolSink::startup`] and after an error, until a resync succeeds).
    pub fn in_sync(&self) -> bool {
        self.in_sync
    }

    /// The pool state.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The pool, to change it ([`Pool::set_real`], [`Pool::remove_real`],
    /// [`Pool::reconfigure`]: a reload). The sink counts as out of sync from here on: call
    /// [`PoolSink::resync`] after the changes, which brings the backend to the new table
    /// in one [`PoolBackend::sync`] (for `IpvsPool`, only the difference: destinations
    /// that stay are left alone, a changed weight is an update).
    pub fn pool_mut(&mut self) -> &mut Pool {
        self.in_sync = false;
        &mut self.pool
    }

    /// The backend, to change its settings (e.g. `IpvsPool::set_service` on a reload);
    /// like [`PoolSink::pool_mut`], call [`PoolSink::resync`] next.
    pub fn backend_mut(&mut self) -> &mut B {
        self.in_sync = false;
        &mut self.backend
    }

    async fn apply(&mut self, ops: &[PoolOp]) -> Result<(), B::Error> {
        for op in ops {
            match *op {
                PoolOp::Add(dest) => self.backend.add_dest(dest).await?,
                PoolOp::SetWeight(dest) => self.backend.set_weight(dest).await?,
                PoolOp::Remove(addr) => self.backend.remove_dest(addr).await?,
                PoolOp::QuorumUp { .. } | PoolOp::QuorumDown { .. } => {}
            }
        }
        Ok(())
    }
}
