//! A microsecond-precise sleep for the driver loop.
//!
//! tokio's timer wheel has a 1 ms resolution and rounds deadlines up, which would put every
//! Master_Down_Timer up to ~1.5 ms late; a one-shot `timerfd` (CLOCK_MONOTONIC, the clock of
//! `std::time::Instant` on Linux) registered with the reactor fires within microseconds.

use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::Instant;

use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

struct Fd(TimerFd);

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

/// One re-armable alarm.
pub(super) struct Alarm {
    fd: AsyncFd<Fd>,
}

impl Alarm {
    /// Creates the timerfd. Must be called inside a tokio runtime.
    pub(super) fn new() -> io::Result<Self> {
        let timer = TimerFd::new(
            ClockId::CLOCK_MONOTONIC,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )?;
        // SAFETY: the `TimerFd` owns a valid descriptor that nothing else closes or replaces
        // while the `AsyncFd` holds it (it is only reachable through the `AsyncFd`).
        let fd = unsafe { AsyncFd::register_with_interest(Fd(timer), Interest::READABLE) }
            .map_err(io::Error::from)?;
        Ok(Self { fd })
    }

    /// Returns at `deadline` (at once if it has passed). Re-arming discards an earlier,
    /// unconsumed expiry (timerfd_settime resets the expiry count).
    pub(super) async fn sleep_until(&self, deadline: Instant) -> io::Result<()> {
        let wait = deadline.saturating_duration_since(Instant::now());
        if wait.is_zero() {
            return Ok(());
        }
        let expiry = Expiration::OneShot(TimeSpec::from_duration(wait));
        self.fd
            .get_ref()
            .0
            .set(expiry, TimerSetTimeFlags::empty())?;
        loop {
            let mut guard = self.fd.readable().await?;
            match guard.try_io(|fd| fd.get_ref().0.wait().map_err(io::Error::from)) {
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }
}
