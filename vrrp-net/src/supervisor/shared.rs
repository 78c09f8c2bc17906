//! The memory the protected process and its supervisor share: a header and two will slots.
//!
//! The protected process is the only writer. It writes a will into the slot that is not
//! published, then publishes that slot with one release store, so whatever moment it dies
//! at, the published slot holds a whole will. The supervisor reads only after the writer is
//! gone (the process died, or the [`super::Supervisor`] was dropped), so reads never race
//! writes.
//!
//! Layout: `state` (u32 at 0: bits 0-1 the published slot + 1, 0 for none; bit 31 disarmed),
//! the two slots' lengths (u32 at 8 and 12), then slot 0 at [`HEADER`] and slot 1 right
//! after it, `capacity` bytes each.

use std::io;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

/// Bytes before the first slot (keeps the slots 64-byte aligned).
const HEADER: usize = 64;
/// Bit of `state`: a graceful stop happened, the supervisor must do nothing.
const DISARMED: u32 = 1 << 31;
/// Bits of `state` naming the published slot (+ 1).
const SLOT_MASK: u32 = 0b11;

/// A `MAP_SHARED | MAP_ANONYMOUS` mapping, inherited by the supervisor at `fork`.
#[derive(Debug)]
pub(super) struct Shared {
    base: NonNull<u8>,
    capacity: usize,
}

// SAFETY: the mapping is plain memory owned by this value; every access goes through
// `&self` / `&mut self` methods that use atomics for the shared words, and slot bytes are only
// written through `&mut self`.
unsafe impl Send for Shared {}
// SAFETY: as for `Send`; `&self` methods only read (atomics or published slots).
unsafe impl Sync for Shared {}

impl Shared {
    /// Maps `HEADER + 2 * capacity` bytes, zeroed (no will published, armed).
    pub(super) fn new(capacity: usize) -> io::Result<Self> {
        let len = Self::len_for(capacity)?;
        // SAFETY: an anonymous mapping with no address hint and no file: it aliases nothing.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base = NonNull::new(base.cast::<u8>()).ok_or_else(|| io::Error::other("mmap"))?;
        Ok(Self { base, capacity })
    }

    fn len_for(capacity: usize) -> io::Result<usize> {
        capacity
            .checked_mul(2)
            .and_then(|c| c.checked_add(HEADER))
            .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))
    }

    /// The largest will a slot holds.
    pub(super) fn capacity(&self) -> usize {
        self.capacity
    }

    fn word(&self, offset: usize) -> &AtomicU32 {
        debug_assert!(offset + 4 <= HEADER && offset.is_multiple_of(4));
        // SAFETY: `offset` is within the header (callers pass 0, 8 or 12), the mapping is
        // page-aligned so the word is 4-byte aligned, it lives as long as `self`, and it is
        // only ever accessed atomically (in this process and in the supervisor).
        unsafe { AtomicU32::from_ptr(self.base.as_ptr().add(offset).cast::<u32>()) }
    }

    fn state(&self) -> &AtomicU32 {
        self.word(0)
    }

    fn slot_len(&self, slot: usize) -> &AtomicU32 {
        self.word(8 + 4 * (slot & 1))
    }

    /// Writes `will` into the unpublished slot and publishes it. `Err` with the will's size
    /// when it does not fit (the published will stays).
    pub(super) fn publish(&mut self, will: &[u8]) -> Result<(), usize> {
        let Ok(len) = u32::try_from(will.len()) else {
            return Err(will.len());
        };
        if will.len() > self.capacity {
            return Err(will.len());
        }
        let state = self.state().load(Ordering::Relaxed);
        let live = (state & SLOT_MASK) as usize;
        // Slot numbers are 1 and 2 in `state`; write the one that is not live.
        let next = if live == 1 { 1 } else { 0 };
        // SAFETY: slot `next` spans `capacity` bytes inside the mapping; `&mut self` makes
        // this the only writer, and the supervisor reads a slot only once the writer is gone.
        let slot = unsafe {
            std::slice::from_raw_parts_mut(
                self.base.as_ptr().add(HEADER + next * self.capacity),
                self.capacity,
            )
        };
        slot[..will.len()].copy_from_slice(will);
        self.slot_len(next).store(len, Ordering::Relaxed);
        let published = (state & DISARMED) | (next as u32 + 1);
        self.state().store(published, Ordering::Release);
        Ok(())
    }

    /// Marks a graceful stop: the supervisor exits without doing anything.
    pub(super) fn disarm(&self) {
        self.state().fetch_or(DISARMED, Ordering::Release);
    }

    /// Whether [`Shared::disarm`] was called.
    pub(super) fn disarmed(&self) -> bool {
        self.state().load(Ordering::Acquire) & DISARMED != 0
    }

    /// The published will, or an empty one. Meant for the supervisor after the writer is
    /// gone; in the writer's process it is the will last published.
    pub(super) fn published(&self) -> &[u8] {
        let state = self.state().load(Ordering::Acquire);
        let slot = match state & SLOT_MASK {
            1 => 0,
            2 => 1,
            _ => return &[],
        };
        let len = (self.slot_len(slot).load(Ordering::Relaxed) as usize).min(self.capacity);
        // SAFETY: the slot lies inside the mapping and `len <= capacity`; it was fully written
        // before the release store that published it, which the acquire load above saw.
        unsafe {
            std::slice::from_raw_parts(self.base.as_ptr().add(HEADER + slot * self.capacity), len)
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Ok(len) = Self::len_for(self.capacity) {
            // SAFETY: `base` and `len` are exactly what `mmap` returned and was given; no
            // reference into the mapping outlives `self`.
            unsafe {
                libc::munmap(self.base.as_ptr().cast(), len);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn publishing_alternates_slots_and_keeps_the_last_whole_will() {
        let mut shared = Shared::new(16).unwrap();
        assert_eq!(shared.published(), b"");
        shared.publish(b"first").unwrap();
        assert_eq!(shared.published(), b"first");
        shared.publish(b"second").unwrap();
        assert_eq!(shared.published(), b"second");
        shared.publish(b"").unwrap();
        assert_eq!(shared.published(), b"");
        // Too big: refused, the published will stays.
        shared.publish(b"third").unwrap();
        assert_eq!(shared.publish(&[0; 17]), Err(17));
        assert_eq!(shared.published(), b"third");
    }

    #[test]
    fn disarming_is_sticky_across_publications() {
        let mut shared = Shared::new(8).unwrap();
        shared.publish(b"will").unwrap();
        assert!(!shared.disarmed());
        shared.disarm();
        shared.publish(b"again").unwrap();
        assert!(shared.disarmed());
        assert_eq!(shared.published(), b"again");
    }
}
