//! The IPVS generic netlink message: a command and its first-level attributes.

use netlink_packet_core::{DecodeError, Emitable, NlasIterator, ParseableParametrized};
use netlink_packet_generic::{GenlFamily, GenlHeader};

use crate::constants::*;
use crate::nla::CmdAttr;

/// `IPVS_CMD_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpvsCmd {
    /// `IPVS_CMD_NEW_SERVICE`: add a service (also the command of service dump replies).
    NewService,
    /// `IPVS_CMD_SET_SERVICE`: modify a service.
    SetService,
    /// `IPVS_CMD_DEL_SERVICE`: delete a service.
    DelService,
    /// `IPVS_CMD_GET_SERVICE`: get one service, or dump all.
    GetService,
    /// `IPVS_CMD_NEW_DEST`: add a destination (also the command of destination dump replies).
    NewDest,
    /// `IPVS_CMD_SET_DEST`: modify a destination.
    SetDest,
    /// `IPVS_CMD_DEL_DEST`: delete a destination.
    DelDest,
    /// `IPVS_CMD_GET_DEST`: dump the destinations of a service.
    GetDest,
    /// `IPVS_CMD_NEW_DAEMON`: start a sync daemon (also the command of daemon dump replies).
    NewDaemon,
    /// `IPVS_CMD_DEL_DAEMON`: stop a sync daemon.
    DelDaemon,
    /// `IPVS_CMD_GET_DAEMON`: dump the sync daemons.
    GetDaemon,
    /// `IPVS_CMD_SET_CONFIG`: set timeouts (also the command of the `GET_CONFIG` reply).
    SetConfig,
    /// `IPVS_CMD_GET_CONFIG`: get timeouts.
    GetConfig,
    /// `IPVS_CMD_SET_INFO`: only used as the command of the `GET_INFO` reply.
    SetInfo,
    /// `IPVS_CMD_GET_INFO`: version and connection table size.
    GetInfo,
    /// `IPVS_CMD_ZERO`: zero the counters of one service or of all.
    Zero,
    /// `IPVS_CMD_FLUSH`: delete every service.
    Flush,
    /// A command this crate does not know.
    Other(u8),
}

impl From<IpvsCmd> for u8 {
    fn from(cmd: IpvsCmd) -> u8 {
        use IpvsCmd::*;
        match cmd {
            NewService => IPVS_CMD_NEW_SERVICE,
            SetService => IPVS_CMD_SET_SERVICE,
            DelService => IPVS_CMD_DEL_SERVICE,
            GetService => IPVS_CMD_GET_SERVICE,
            NewDest => IPVS_CMD_NEW_DEST,
            SetDest => IPVS_CMD_SET_DEST,
            DelDest => IPVS_CMD_DEL_DEST,
            GetDest => IPVS_CMD_GET_DEST,
            NewDaemon => IPVS_CMD_NEW_DAEMON,
            DelDaemon => IPVS_CMD_DEL_DAEMON,
            GetDaemon => IPVS_CMD_GET_DAEMON,
            SetConfig => IPVS_CMD_SET_CONFIG,
            GetConfig => IPVS_CMD_GET_CONFIG,
            SetInfo => IPVS_CMD_SET_INFO,
            GetInfo => IPVS_CMD_GET_INFO,
            Zero => IPVS_CMD_ZERO,
            Flush => IPVS_CMD_FLUSH,
            Other(v) => v,
        }
    }
}

impl From<u8> for IpvsCmd {
    fn from(v: u8) -> Self {
        use IpvsCmd::*;
        match v {
            IPVS_CMD_NEW_SERVICE => NewService,
            IPVS_CMD_SET_SERVICE => SetService,
            IPVS_CMD_DEL_SERVICE => DelService,
            IPVS_CMD_GET_SERVICE => GetService,
            IPVS_CMD_NEW_DEST => NewDest,
            IPVS_CMD_SET_DEST => SetDest,
            IPVS_CMD_DEL_DEST => DelDest,
            IPVS_CMD_GET_DEST => GetDest,
            IPVS_CMD_NEW_DAEMON => NewDaemon,
            IPVS_CMD_DEL_DAEMON => DelDaemon,
            IPVS_CMD_GET_DAEMON => GetDaemon,
            IPVS_CMD_SET_CONFIG => SetConfig,
            IPVS_CMD_GET_CONFIG => GetConfig,
            IPVS_CMD_SET_INFO => SetInfo,
            IPVS_CMD_GET_INFO => GetInfo,
            IPVS_CMD_ZERO => Zero,
            IPVS_CMD_FLUSH => Flush,
            other => Other(other),
        }
    }
}

/// An IPVS generic netlink message (the part after the generic netlink header).
///
/// Wrap it in [`netlink_packet_generic::GenlMessage`] with the resolved family id to send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpvsMessage {
    /// The command.
    pub cmd: IpvsCmd,
    /// First-level attributes, in wire order.
    pub attrs: Vec<CmdAttr>,
}

impl IpvsMessage {
    /// A message with the given command and attributes.
    pub fn new(cmd: IpvsCmd, attrs: Vec<CmdAttr>) -> Self {
        Self { cmd, attrs }
    }
}

impl GenlFamily for IpvsMessage {
    fn family_name() -> &'static str {
        IPVS_GENL_NAME
    }

    fn command(&self) -> u8 {
        self.cmd.into()
    }

    fn version(&self) -> u8 {
        IPVS_GENL_VERSION
    }
}

impl Emitable for IpvsMessage {
    fn buffer_len(&self) -> usize {
        self.attrs.as_slice().buffer_len()
    }

    fn emit(&self, buffer: &mut [u8]) {
        self.attrs.as_slice().emit(buffer)
    }
}

impl ParseableParametrized<[u8], GenlHeader> for IpvsMessage {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        let attrs = NlasIterator::new(buf)
            .map(|nla| nla.and_then(|nla| CmdAttr::parse_with_param(&nla, header.cmd)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            cmd: header.cmd.into(),
            attrs,
        })
    }
}
