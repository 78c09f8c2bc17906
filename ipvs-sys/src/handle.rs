//! The typed async handle: one netlink socket, shared by clones.

use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::path::Path;
use std::sync::Arc;

use netlink_sys::Socket;
use tokio::sync::Mutex;

use crate::apply::{Changes, Desired, DesiredService, plan, plan_service};
use crate::command::Command;
use crate::connection::{Connection, Failure};
use crate::error::Error;
use crate::message::{IpvsCmd, IpvsMessage};
use crate::nla::CmdAttr;
use crate::raw;
use crate::types::{
    DaemonState, Destination, DestinationEntry, Info, Service, ServiceEntry, ServiceKey,
    SyncDaemon, Timeouts,
};

/// A connection to the kernel's IPVS, usable from many tasks (clones share one socket and
/// serialise their requests).
///
/// Every method is one request (or one dump) except [`IpvsHandle::apply`],
/// [`IpvsHandle::apply_service`] and [`IpvsHandle::execute_batch`].
#[derive(Debug, Clone)]
pub struct IpvsHandle {
    conn: Arc<Mutex<Connection>>,
}

impl IpvsHandle {
    /// Opens a generic netlink socket in the current network namespace and resolves the IPVS
    /// family. Fails with [`Error::NotLoaded`] when the kernel has no IPVS.
    pub async fn new() -> Result<Self, Error> {
        Self::from_socket(Connection::open_socket()?).await
    }

    /// Uses a `NETLINK_GENERIC` socket opened by the caller (not yet bound). A netlink socket
    /// talks to the network namespace it was created in, whatever the caller's thread does
    /// afterwards: open it in the wanted namespace and pass it here.
    pub async fn from_socket(socket: Socket) -> Result<Self, Error> {
        let conn = Connection::new(socket).await?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Opens the socket inside the network namespace at `path` (`/run/netns/NAME`,
    /// `/proc/PID/ns/net`): a short-lived thread enters the namespace with `setns(2)`, creates
    /// the socket and exits; the rest of the process stays where it is. Needs `CAP_SYS_ADMIN`.
    pub async fn new_in_netns(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        let for_thread = path.clone();
        // A thread of its own: setns(2) changes the calling thread, which must not be one the
        // runtime reuses. The thread ends right after creating the socket.
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let opened = (|| {
                let ns = std::fs::File::open(&for_thread)?;
                rustix::thread::move_into_link_name_space(
                    ns.as_fd(),
                    Some(rustix::thread::LinkNameSpaceType::Network),
                )?;
                Connection::open_socket()
            })();
            let _ = tx.send(opened);
        });
        let opened = rx.await.map_err(|_| Error::Netns {
            path: path.clone(),
            source: std::io::Error::other("namespace thread ended without a socket"),
        })?;
        let socket = opened.map_err(|source| Error::Netns { path, source })?;
        Self::from_socket(socket).await
    }

    /// Runs one write command.
    pub async fn execute(&self, command: &Command) -> Result<(), Error> {
        command.validate()?;
        let mut conn = self.conn.lock().await;
        match conn.request(command.to_message()).await {
            Ok(_) => Ok(()),
            Err(Failure::Errno(e)) => Err(command.error(e)),
            Err(Failure::Local(e)) => Err(e),
        }
    }

    /// Runs many write commands, pipelined (many requests per datagram), and returns one
    /// result per command, in order. Nothing is sent if any command is invalid.
    pub async fn execute_batch(
        &self,
        commands: &[Command],
    ) -> Result<Vec<Result<(), Error>>, Error> {
        for c in commands {
            c.validate()?;
        }
        let msgs = commands.iter().map(Command::to_message).collect();
        let errnos = self.conn.lock().await.batch(msgs).await?;
        Ok(commands
            .iter()
            .zip(errnos)
            .map(|(c, e)| if e == 0 { Ok(()) } else { Err(c.error(e)) })
            .collect())
    }

    /// Adds a virtual service.
    pub async fn add_service(&self, service: &Service) -> Result<(), Error> {
        self.execute(&Command::AddService(service.clone())).await
    }

    /// Changes a service's scheduler, flags or persistence.
    pub async fn update_service(&self, service: &Service) -> Result<(), Error> {
        self.execute(&Command::UpdateService(service.clone())).await
    }

    /// Deletes a service and its destinations.
    pub async fn delete_service(&self, key: &ServiceKey) -> Result<(), Error> {
        self.execute(&Command::DeleteService(*key)).await
    }

    /// Adds a destination to a service.
    pub async fn add_destination(&self, key: &ServiceKey, dest: &Destination) -> Result<(), Error> {
        self.execute(&Command::AddDestination(*key, *dest)).await
    }

    /// Changes a destination's forwarding method, weight or thresholds (selected by
    /// `dest.addr`). Weight 0 quiesces it: existing connections stay, new ones go elsewhere.
    pub async fn update_destination(
        &self,
        key: &ServiceKey,
        dest: &Destination,
    ) -> Result<(), Error> {
        self.execute(&Command::UpdateDestination(*key, *dest)).await
    }

    /// Deletes a destination.
    pub async fn delete_destination(
        &self,
        key: &ServiceKey,
        addr: SocketAddr,
    ) -> Result<(), Error> {
        self.execute(&Command::DeleteDestination(*key, addr)).await
    }

    /// Deletes every service.
    pub async fn flush(&self) -> Result<(), Error> {
        self.execute(&Command::Flush).await
    }

    /// Zeroes the counters of one service, or of all with `None`.
    pub async fn zero(&self, key: Option<&ServiceKey>) -> Result<(), Error> {
        self.execute(&Command::Zero(key.copied())).await
    }

    /// Sets connection timeouts (zero fields are left as they are).
    pub async fn set_timeouts(&self, timeouts: &Timeouts) -> Result<(), Error> {
        self.execute(&Command::SetTimeouts(*timeouts)).await
    }

    /// Starts a sync daemon.
    pub async fn start_daemon(&self, daemon: &SyncDaemon) -> Result<(), Error> {
        self.execute(&Command::StartDaemon(daemon.clone())).await
    }

    /// Stops the master or backup sync daemon.
    pub async fn stop_daemon(&self, state: DaemonState) -> Result<(), Error> {
        self.execute(&Command::StopDaemon(state)).await
    }

    async fn query(
        &self,
        msg: IpvsMessage,
        dump: bool,
        op: &str,
    ) -> Result<Vec<IpvsMessage>, Error> {
        let mut conn = self.conn.lock().await;
        let result = if dump {
            conn.dump(msg).await
        } else {
            conn.request(msg).await
        };
        result.map_err(|f| match f {
            Failure::Errno(1 | 13) => Error::PermissionDenied { op: op.to_owned() },
            Failure::Errno(e) => Error::Kernel {
                op: op.to_owned(),
                source: std::io::Error::from_raw_os_error(e),
            },
            Failure::Local(e) => e,
        })
    }

    /// IPVS version and connection table size.
    pub async fn info(&self) -> Result<Info, Error> {
        let replies = self
            .query(
                IpvsMessage::new(IpvsCmd::GetInfo, vec![]),
                false,
                "get info",
            )
            .await?;
        let reply = replies.first().ok_or(Error::NoReply {
            op: "get info".into(),
        })?;
        Ok(Info::from_attrs(&reply.attrs))
    }

    /// Connection timeouts.
    pub async fn timeouts(&self) -> Result<Timeouts, Error> {
        let msg = IpvsMessage::new(IpvsCmd::GetConfig, vec![]);
        let replies = self.query(msg, false, "get timeouts").await?;
        let reply = replies.first().ok_or(Error::NoReply {
            op: "get timeouts".into(),
        })?;
        Ok(Timeouts::from_attrs(&reply.attrs))
    }

    /// Every service, in the kernel's order.
    pub async fn services(&self) -> Result<Vec<ServiceEntry>, Error> {
        let msg = IpvsMessage::new(IpvsCmd::GetService, vec![]);
        let replies = self.query(msg, true, "list services").await?;
        replies
            .iter()
            .flat_map(|m| m.attrs.iter())
            .filter_map(service_attrs)
            .collect()
    }

    /// One service.
    pub async fn service(&self, key: &ServiceKey) -> Result<ServiceEntry, Error> {
        let msg = IpvsMessage::new(IpvsCmd::GetService, vec![CmdAttr::Service(key.to_attrs())]);
        let op = format!("get service {key}");
        let mut conn = self.conn.lock().await;
        let replies = match conn.request(msg).await {
            Ok(r) => r,
            Err(Failure::Errno(3)) => return Err(Error::NoSuchService(*key)),
            Err(Failure::Errno(e)) => {
                return Err(Error::Kernel {
                    op,
                    source: std::io::Error::from_raw_os_error(e),
                });
            }
            Err(Failure::Local(e)) => return Err(e),
        };
        drop(conn);
        replies
            .iter()
            .flat_map(|m| m.attrs.iter())
            .find_map(service_attrs)
            .ok_or(Error::NoReply { op })?
    }

    /// The destinations of a service, in the kernel's order.
    pub async fn destinations(&self, key: &ServiceKey) -> Result<Vec<DestinationEntry>, Error> {
        let msg = IpvsMessage::new(IpvsCmd::GetDest, vec![CmdAttr::Service(key.to_attrs())]);
        let mut conn = self.conn.lock().await;
        let replies = match conn.dump(msg).await {
            Ok(r) => r,
            Err(Failure::Errno(3)) => return Err(Error::NoSuchService(*key)),
            Err(Failure::Errno(e)) => {
                return Err(Error::Kernel {
                    op: format!("list destinations of service {key}"),
                    source: std::io::Error::from_raw_os_error(e),
                });
            }
            Err(Failure::Local(e)) => return Err(e),
        };
        drop(conn);
        if replies.is_empty() {
            // The kernel answers a dump for a missing service with an empty one.
            self.service(key).await?;
        }
        let family = key.family();
        replies
            .iter()
            .flat_map(|m| m.attrs.iter())
            .filter_map(|a| match a {
                CmdAttr::Dest(d) => Some(DestinationEntry::from_attrs(d, family)),
                _ => None,
            })
            .collect()
    }

    /// The running sync daemons.
    pub async fn daemons(&self) -> Result<Vec<SyncDaemon>, Error> {
        let msg = IpvsMessage::new(IpvsCmd::GetDaemon, vec![]);
        let replies = self.query(msg, true, "list sync daemons").await?;
        replies
            .iter()
            .flat_map(|m| m.attrs.iter())
            .filter_map(|a| match a {
                CmdAttr::Daemon(d) => Some(SyncDaemon::from_attrs(d)),
                _ => None,
            })
            .collect()
    }

    /// Every service with its destinations' configurations (no counters), as
    /// [`IpvsHandle::apply`] sees it: one service dump and one destination dump per service,
    /// decoded without allocating per attribute ([`crate::raw`]).
    pub async fn state(&self) -> Result<Vec<(Service, Vec<Destination>)>, Error> {
        let mut conn = self.conn.lock().await;
        let mut services = Vec::new();
        let list = IpvsMessage::new(IpvsCmd::GetService, vec![]);
        conn.dump_raw(list, |attrs| {
            services.extend(raw::service_config(attrs)?);
            Ok(())
        })
        .await
        .map_err(|f| failure(f, "list services"))?;
        let mut state = Vec::with_capacity(services.len());
        for service in services {
            let dests = destination_configs(&mut conn, &service.key).await?;
            state.push((service, dests));
        }
        Ok(state)
    }

    /// One service with its destinations' configurations, as [`IpvsHandle::apply_service`]
    /// sees it; `None` when the kernel has no such service.
    pub async fn service_state(
        &self,
        key: &ServiceKey,
    ) -> Result<Option<(Service, Vec<Destination>)>, Error> {
        let service = match self.service(key).await {
            Ok(entry) => entry.service,
            Err(Error::NoSuchService(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let dests = destination_configs(&mut *self.conn.lock().await, key).await?;
        Ok(Some((service, dests)))
    }

    /// Makes the kernel hold exactly `desired`: reads the current services and destinations,
    /// computes the difference ([`plan`]) and sends only the needed commands, pipelined.
    /// Destinations that stay are never deleted, so their connections survive.
    ///
    /// On a kernel error the commands before it stay applied and the error is returned;
    /// calling `apply` again with the same `desired` converges.
    pub async fn apply(&self, desired: &Desired) -> Result<Changes, Error> {
        desired.validate()?;
        let current = self.state().await?;
        self.send_planned(plan(&current, desired)).await
    }

    /// Makes the kernel's copy of one service match `desired`, leaving every other service
    /// alone: creates the service if it is missing, updates its settings if they differ, and
    /// deletes, updates or adds its destinations ([`plan_service`]). Destinations that stay
    /// are never deleted, so their connections survive. This is what a program owning one
    /// virtual service calls at start (adopting or cleaning a table left by an earlier run)
    /// and to recover after an error.
    ///
    /// On a kernel error the commands before it stay applied and the error is returned;
    /// calling `apply_service` again with the same `desired` converges.
    pub async fn apply_service(&self, desired: &DesiredService) -> Result<Changes, Error> {
        desired.validate()?;
        let current = self.service_state(&desired.service.key).await?;
        let current = current
            .as_ref()
            .map(|(service, dests)| (service, dests.as_slice()));
        self.send_planned(plan_service(current, desired)).await
    }

    /// Sends planned commands, pipelined, stopping at the first error.
    async fn send_planned(&self, commands: Vec<Command>) -> Result<Changes, Error> {
        if !commands.is_empty() {
            for result in self.execute_batch(&commands).await? {
                result?;
            }
        }
        Ok(Changes { commands })
    }
}

/// The configurations of a service's destinations, from one allocation-free dump (empty for
/// a missing service: the kernel answers such a dump with nothing).
async fn destination_configs(
    conn: &mut Connection,
    key: &ServiceKey,
) -> Result<Vec<Destination>, Error> {
    let family = key.family();
    let mut dests = Vec::new();
    let msg = IpvsMessage::new(IpvsCmd::GetDest, vec![CmdAttr::Service(key.to_attrs())]);
    conn.dump_raw(msg, |attrs| {
        dests.extend(raw::destination_config(attrs, family)?);
        Ok(())
    })
    .await
    .map_err(|f| failure(f, &format!("list destinations of service {key}")))?;
    Ok(dests)
}

/// The error for a failed read-only request.
fn failure(f: Failure, op: &str) -> Error {
    match f {
        Failure::Errno(1 | 13) => Error::PermissionDenied { op: op.to_owned() },
        Failure::Errno(e) => Error::Kernel {
            op: op.to_owned(),
            source: std::io::Error::from_raw_os_error(e),
        },
        Failure::Local(e) => e,
    }
}

fn service_attrs(attr: &CmdAttr) -> Option<Result<ServiceEntry, Error>> {
    match attr {
        CmdAttr::Service(s) => Some(ServiceEntry::from_attrs(s)),
        _ => None,
    }
}
