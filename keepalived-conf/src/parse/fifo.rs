//! The notify FIFOs of `global_defs`: `notify_fifo`, `vrrp_notify_fifo`, `lvs_notify_fifo`
//! (`PATH [USER [GROUP]]`) and their `*_script` readers (`CMD [USER [GROUP]]`), in either
//! order, with keepalived 2.2.7's rules for FIFOs given twice.

use std::path::PathBuf;

use super::super::error::ConfError;
use super::super::model::{GlobalDefs, NotifyFifo, ScriptCommand, ScriptUser};
use super::super::tree::Node;
use super::{Ctx, script_command, script_user};

/// The three FIFOs by index: global, vrrp, lvs.
const PREFIX: [&str; 3] = ["", "vrrp_", "lvs_"];

/// What `global_defs` said of the three FIFOs so far.
#[derive(Default)]
pub(super) struct Fifos {
    paths: [Option<(PathBuf, Option<ScriptUser>)>; 3],
    scripts: [Option<ScriptCommand>; 3],
}

impl Fifos {
    /// `[PREFIX]notify_fifo PATH [USER [GROUP]]`; a second one is ignored, as keepalived
    /// ignores it.
    pub(super) fn fifo(&mut self, ctx: &mut Ctx, n: &Node, which: usize) -> Result<(), ConfError> {
        let Some((path, user)) = n.args().split_first() else {
            return Err(ConfError::invalid(&n.loc, n.keyword(), "missing FIFO path"));
        };
        if self.paths[which].is_some() {
            ctx.warn(n, "already specified, ignored");
            return Ok(());
        }
        let owner = if user.is_empty() {
            None
        } else {
            Some(script_user(n, user)?)
        };
        self.paths[which] = Some((PathBuf::from(path), owner));
        Ok(())
    }

    /// `[PREFIX]notify_fifo_script CMD [USER [GROUP]]`; a second one is ignored.
    pub(super) fn script(
        &mut self,
        ctx: &mut Ctx,
        n: &Node,
        which: usize,
    ) -> Result<(), ConfError> {
        if self.scripts[which].is_some() {
            ctx.warn(n, "already specified, ignored");
            return Ok(());
        }
        self.scripts[which] = Some(script_command(n)?);
        Ok(())
    }

    /// Pairs paths with scripts into `g`. As keepalived 2.2.7: a script without its FIFO is
    /// not run; the vrrp (or lvs) FIFO naming the global one is dropped (every line would be
    /// written twice); lvs and vrrp sharing a FIFO cannot both start a reader: the vrrp one
    /// does.
    pub(super) fn finish(self, ctx: &mut Ctx, node: &Node, g: &mut GlobalDefs) {
        let [global, vrrp, lvs] = self.paths;
        let [global_script, vrrp_script, lvs_script] = self.scripts;
        let mut make = |which: usize, path: Option<(PathBuf, Option<ScriptUser>)>, script| match (
            path, script,
        ) {
            (Some((path, owner)), script) => Some(NotifyFifo {
                path,
                owner,
                script,
            }),
            (None, Some(s)) => {
                ctx.warn(
                    node,
                    &format!(
                        "{}notify_fifo_script at {} without {}notify_fifo: not run",
                        PREFIX[which], s.loc, PREFIX[which]
                    ),
                );
                None
            }
            (None, None) => None,
        };
        g.notify_fifo = make(0, global, global_script);
        g.vrrp_notify_fifo = make(1, vrrp, vrrp_script);
        g.lvs_notify_fifo = make(2, lvs, lvs_script);
        if let Some(global) = &g.notify_fifo {
            for (prefix, fifo) in [
                ("vrrp", &mut g.vrrp_notify_fifo),
                ("lvs", &mut g.lvs_notify_fifo),
            ] {
                if fifo.as_ref().is_some_and(|f| f.path == global.path) {
                    ctx.warn(
                        node,
                        &format!(
                            "notify FIFO {} is both the global and the {prefix} FIFO: the {prefix} \
                             one is ignored",
                            global.path.display()
                        ),
                    );
                    *fifo = None;
                }
            }
        }
        if let (Some(vrrp), Some(lvs)) = (&g.vrrp_notify_fifo, &mut g.lvs_notify_fifo)
            && vrrp.path == lvs.path
            && vrrp.script.is_some()
            && lvs.script.take().is_some()
        {
            ctx.warn(
                node,
                "the LVS and vrrp notify FIFOs are the same, both with scripts: the LVS script \
                 is ignored",
            );
        }
    }
}
