//! The process allocator: a bump region for the commands that do one
//! piece of work and exit, the system allocator behind it.
//!
//! Rendering is allocation-heavy (parse trees, values, YAML), and the whole
//! of a `berth template` run allocates only 1–30 MiB on real charts (with
//! a live peak of half that). So the process starts on a bump region:
//! allocations are carved from one reserved range and never given back,
//! which touches exactly the bytes asked for (the kernel zeroes every page
//! a process touches: with mimalloc, which commits three to five times the
//! live heap, that was a fifth of a render's time), costs a pointer bump
//! per allocation and makes `free` a range check. That suits `template`,
//! `verify`, `crds`, `version`. Once the region is used up, allocations go
//! to the system allocator (so a template that churns through gigabytes
//! still frees its garbage), and the controller and the cluster-facing
//! commands turn the region off as they start ([`end_one_shot`]): a
//! long-running process must give memory back, and there allocation speed
//! does not matter. (mimalloc, used before the region, is gone: its
//! start-up alone, a huge page and the environment scan in its
//! constructor, was 7 % of a `berth version`.)
//!
//! No crate does this: bump crates (bumpalo and the like) are arenas for
//! typed values, not a process allocator that falls back to another one.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

/// What allocates when the region does not.
use std::alloc::System as Fallback;

/// How much address space the one-shot region reserves. Only what is
/// handed out is ever touched; past this, allocations go to the system
/// allocator.
pub const ONE_SHOT_RESERVE: usize = 1 << 30;

/// Each thread bumps through chunks of this size taken from the region.
const CHUNK: usize = 1 << 20;

/// Allocations above this size (or aligned beyond a page) are taken from
/// the region directly instead of from the thread's chunk.
const SMALL_MAX: usize = 64 << 10;

/// A reserved range of address space handed out front to back.
pub struct Region {
    /// One of `UNRESERVED`, `RESERVING`, `ON`, `OFF`.
    state: AtomicU8,
    /// The range; zero until reserved, kept when turned off (blocks handed
    /// out stay the region's).
    base: AtomicUsize,
    end: AtomicUsize,
    top: AtomicUsize,
    /// Tells one region's thread chunks from another's (tests make more
    /// than the process one).
    id: usize,
}

/// The part of a [`Region`] one thread bumps through.
#[derive(Clone, Copy)]
struct Chunk {
    region: usize,
    cur: usize,
    end: usize,
}

const UNRESERVED: u8 = 0;
const RESERVING: u8 = 1;
const ON: u8 = 2;
const OFF: u8 = 3;

thread_local! {
    static THREAD_CHUNK: Cell<Chunk> = const { Cell::new(Chunk { region: 0, cur: 0, end: 0 }) };
}

fn align_up(p: usize, align: usize) -> usize {
    (p + align - 1) & !(align - 1)
}

impl Region {
    /// A region not in use yet; `id` must differ between regions (non-zero).
    pub const fn new(id: usize) -> Region {
        Region {
            state: AtomicU8::new(UNRESERVED),
            base: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
            top: AtomicUsize::new(0),
            id,
        }
    }

    /// Reserves `size` bytes of address space (nothing is committed until
    /// touched) and starts handing them out. False, and allocations stay
    /// with the system allocator, when the system refuses or the region was reserved
    /// (or turned off) before.
    pub fn reserve(&self, size: usize) -> bool {
        if self
            .state
            .compare_exchange(UNRESERVED, RESERVING, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return false;
        }
        // SAFETY: an anonymous private mapping at an address of the
        // kernel's choosing; no existing memory is affected.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            let _ =
                self.state
                    .compare_exchange(RESERVING, OFF, Ordering::AcqRel, Ordering::Relaxed);
            return false;
        }
        // Huge pages where the system gives them on request: a fault per
        // 2 MiB instead of per 4 KiB (the region is touched front to
        // back). Advice only; failure changes nothing.
        // SAFETY: advice on the mapping just made.
        unsafe { libc::madvise(p, size, libc::MADV_HUGEPAGE) };
        let base = p as usize;
        self.top.store(base, Ordering::Relaxed);
        self.end.store(base + size, Ordering::Relaxed);
        self.base.store(base, Ordering::Relaxed);
        // Turned off meanwhile: stays off (nothing was handed out).
        self.state
            .compare_exchange(RESERVING, ON, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }

    /// No more allocations from the region; what it handed out stays valid
    /// (and is never freed).
    pub fn turn_off(&self) {
        // A reservation in flight sees this and ends up off as well.
        self.state.store(OFF, Ordering::Release);
    }

    /// Whether allocations come from the region, reserving it on the first
    /// call when `reserve_on_first_use`.
    #[inline]
    fn on(&self, reserve_on_first_use: bool) -> bool {
        match self.state.load(Ordering::Acquire) {
            ON => true,
            UNRESERVED if reserve_on_first_use => self.reserve(ONE_SHOT_RESERVE),
            _ => false,
        }
    }

    fn contains(&self, p: usize) -> bool {
        let base = self.base.load(Ordering::Acquire);
        base != 0 && p >= base && p < self.end.load(Ordering::Relaxed)
    }

    /// `size` bytes at `align` from the shared front, or `None` when the
    /// region is used up.
    fn take(&self, size: usize, align: usize) -> Option<usize> {
        let end = self.end.load(Ordering::Relaxed);
        let mut top = self.top.load(Ordering::Relaxed);
        loop {
            let start = align_up(top, align);
            let new_top = start.checked_add(size)?;
            if new_top > end {
                return None;
            }
            match self
                .top
                .compare_exchange_weak(top, new_top, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Some(start),
                Err(now) => top = now,
            }
        }
    }

    /// Grows the block `[p, p + old)` to `new` bytes where it lies, when it
    /// is the last thing taken from the shared front or from this thread's
    /// chunk.
    fn grow_in_place(&self, p: usize, old: usize, new: usize) -> bool {
        let mut chunk = THREAD_CHUNK.get();
        if chunk.region == self.id && p + old == chunk.cur && p + new <= chunk.end {
            chunk.cur = p + new;
            THREAD_CHUNK.set(chunk);
            return true;
        }
        let end = self.end.load(Ordering::Relaxed);
        p + new <= end
            && self
                .top
                .compare_exchange(p + old, p + new, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// A fresh (zeroed, never handed out before) block, or `None` when the
    /// region is used up.
    fn alloc(&self, size: usize, align: usize) -> Option<usize> {
        if size > SMALL_MAX || align > 4096 {
            return self.take(size.max(1), align);
        }
        let mut chunk = THREAD_CHUNK.get();
        if chunk.region == self.id {
            let start = align_up(chunk.cur, align);
            if start + size <= chunk.end {
                chunk.cur = start + size;
                THREAD_CHUNK.set(chunk);
                return Some(start);
            }
        }
        let base = self.take(CHUNK, 4096)?;
        let start = align_up(base, align);
        THREAD_CHUNK.set(Chunk {
            region: self.id,
            cur: start + size,
            end: base + CHUNK,
        });
        Some(start)
    }
}

/// The process's region: reserved at the first allocation, turned off by
/// [`end_one_shot`].
static ONE_SHOT: Region = Region::new(1);

/// From now on, allocations go to the system allocator and are freed
/// again: for the
/// controller, which runs for as long as the cluster does. What the
/// region handed out before stays valid.
pub fn end_one_shot() {
    ONE_SHOT.turn_off();
}

/// The system allocator, with a [`Region`] in front of it while that is
/// on.
pub struct BerthAlloc {
    region: &'static Region,
    reserve_on_first_use: bool,
}

impl BerthAlloc {
    /// The process allocator: the system's behind [`ONE_SHOT`], which is
    /// reserved at the first allocation.
    pub const fn process() -> BerthAlloc {
        BerthAlloc {
            region: &ONE_SHOT,
            reserve_on_first_use: true,
        }
    }

    /// An allocator in front of `region`, used only once that is reserved
    /// (tests).
    pub const fn with_region(region: &'static Region) -> BerthAlloc {
        BerthAlloc {
            region,
            reserve_on_first_use: false,
        }
    }

    /// A block from the region while it is on and has room.
    #[inline]
    fn region_block(&self, layout: Layout) -> Option<*mut u8> {
        if !self.region.on(self.reserve_on_first_use) {
            return None;
        }
        self.region
            .alloc(layout.size(), layout.align())
            .map(|p| p as *mut u8)
    }
}

// SAFETY: blocks from the region are in bounds of the reserved mapping,
// never handed out twice (the front and each chunk only move forward) and
// aligned as asked; they are fresh anonymous memory, hence zeroed. Blocks
// outside the region come from and go back to the system allocator.
unsafe impl GlobalAlloc for BerthAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match self.region_block(layout) {
            Some(p) => p,
            None => Fallback.alloc(layout),
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // Region blocks are fresh, hence zeroed.
        match self.region_block(layout) {
            Some(p) => p,
            None => Fallback.alloc_zeroed(layout),
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if !self.region.contains(ptr as usize) {
            Fallback.dealloc(ptr, layout);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = ptr as usize;
        if !self.region.contains(p) {
            return Fallback.realloc(ptr, layout, new_size);
        }
        if new_size <= layout.size() || self.region.grow_in_place(p, layout.size(), new_size) {
            return ptr;
        }
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        let new = self.alloc(new_layout);
        if !new.is_null() {
            std::ptr::copy_nonoverlapping(ptr, new, layout.size());
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `f` on a thread of its own, so the thread's chunk starts empty.
    fn on_new_thread(f: impl FnOnce() + Send + 'static) {
        std::thread::spawn(f).join().expect("test thread");
    }

    fn region(size: usize) -> &'static Region {
        static NEXT_ID: AtomicUsize = AtomicUsize::new(100);
        let r: &'static Region = Box::leak(Box::new(Region::new(
            NEXT_ID.fetch_add(1, Ordering::Relaxed),
        )));
        assert!(r.reserve(size));
        r
    }

    #[test]
    fn blocks_are_aligned_disjoint_zeroed_and_inside_the_region() {
        on_new_thread(|| {
            let r = region(64 << 20);
            let a = BerthAlloc::with_region(r);
            let mut blocks: Vec<(usize, usize)> = Vec::new();
            let sizes = [1usize, 7, 16, 24, 100, 4096, 70_000, 3, 1 << 20, 5];
            let aligns = [1usize, 8, 16, 64, 4096, 8192];
            for (i, &size) in sizes.iter().cycle().take(200).enumerate() {
                let align = aligns[i % aligns.len()];
                let layout = Layout::from_size_align(size, align).expect("layout");
                // SAFETY: a non-zero size; the block is written within bounds.
                let p = unsafe { a.alloc_zeroed(layout) } as usize;
                assert!(r.contains(p), "block {i} outside the region");
                assert_eq!(p % align, 0, "block {i} misaligned");
                // SAFETY: `p` points to `size` bytes just allocated.
                let bytes = unsafe { std::slice::from_raw_parts_mut(p as *mut u8, size) };
                assert!(bytes.iter().all(|&b| b == 0), "block {i} not zeroed");
                bytes.fill(0xAB);
                for &(q, n) in &blocks {
                    assert!(p + size <= q || q + n <= p, "block {i} overlaps");
                }
                blocks.push((p, size));
            }
        });
    }

    #[test]
    fn realloc_keeps_the_contents_and_grows_the_last_block_in_place() {
        on_new_thread(|| {
            let r = region(64 << 20);
            let a = BerthAlloc::with_region(r);
            let layout = Layout::from_size_align(32, 8).expect("layout");
            // SAFETY: sizes are non-zero; every block is used within its
            // current size only.
            unsafe {
                let p = a.alloc(layout);
                for i in 0..32 {
                    *p.add(i) = i as u8;
                }
                let grown = a.realloc(p, layout, 64);
                assert_eq!(grown, p, "the last block grows where it is");
                let other = a.alloc(layout);
                let moved = a.realloc(grown, Layout::from_size_align(64, 8).expect("layout"), 128);
                assert_ne!(moved, grown, "a block with another after it moves");
                assert!(moved as usize > other as usize);
                for i in 0..32 {
                    assert_eq!(*moved.add(i), i as u8);
                }
                let shrunk = a.realloc(moved, Layout::from_size_align(128, 8).expect("layout"), 16);
                assert_eq!(shrunk, moved);
                a.dealloc(shrunk, Layout::from_size_align(16, 8).expect("layout"));
            }
        });
    }

    #[test]
    fn a_used_up_region_hands_over_to_the_system_allocator() {
        on_new_thread(|| {
            let r = region(4 << 20);
            let a = BerthAlloc::with_region(r);
            let layout = Layout::from_size_align(3 << 20, 16).expect("layout");
            // SAFETY: non-zero sizes; blocks freed with their layouts.
            unsafe {
                let first = a.alloc(layout);
                assert!(r.contains(first as usize));
                let second = a.alloc_zeroed(layout);
                assert!(!second.is_null());
                assert!(
                    !r.contains(second as usize),
                    "past the region: the system allocator"
                );
                assert!(std::slice::from_raw_parts(second, 3 << 20)
                    .iter()
                    .all(|&b| b == 0));
                // A region block grown beyond the region moves to the system
                // allocator.
                *first = 42;
                let grown = a.realloc(first, layout, 5 << 20);
                assert!(!r.contains(grown as usize));
                assert_eq!(*grown, 42);
                a.dealloc(grown, Layout::from_size_align(5 << 20, 16).expect("layout"));
                a.dealloc(second, layout);
            }
        });
    }

    #[test]
    fn threads_get_chunks_of_their_own() {
        let r = region(64 << 20);
        let handles: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(move || {
                    let a = BerthAlloc::with_region(r);
                    let layout = Layout::from_size_align(48, 16).expect("layout");
                    (0..5000)
                        .map(|_| {
                            // SAFETY: a non-zero size; the block is written
                            // within bounds.
                            let p = unsafe { a.alloc(layout) };
                            unsafe { p.write_bytes(1, 48) };
                            p as usize
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<usize> = handles
            .into_iter()
            .flat_map(|h| h.join().expect("thread"))
            .collect();
        all.sort_unstable();
        for w in all.windows(2) {
            assert!(w[1] - w[0] >= 48, "blocks from two threads overlap");
        }
        assert!(all.iter().all(|&p| r.contains(p)));
    }

    #[test]
    fn an_unreserved_or_turned_off_region_leaves_everything_to_the_system() {
        static UNUSED: Region = Region::new(2);
        let a = BerthAlloc::with_region(&UNUSED);
        let layout = Layout::from_size_align(100, 8).expect("layout");
        // SAFETY: non-zero sizes; blocks freed with their layouts.
        unsafe {
            let p = a.alloc(layout);
            assert!(!p.is_null());
            assert!(!UNUSED.contains(p as usize));
            let p = a.realloc(p, layout, 200);
            a.dealloc(p, Layout::from_size_align(200, 8).expect("layout"));
        }
        on_new_thread(|| {
            let r = region(8 << 20);
            let a = BerthAlloc::with_region(r);
            let layout = Layout::from_size_align(64, 8).expect("layout");
            // SAFETY: non-zero sizes; blocks used within their sizes.
            unsafe {
                let before = a.alloc(layout);
                assert!(r.contains(before as usize));
                *before = 7;
                r.turn_off();
                assert!(!r.reserve(8 << 20), "a region is reserved once");
                let after = a.alloc(layout);
                assert!(
                    !r.contains(after as usize),
                    "turned off: the system allocator"
                );
                // Blocks from before stay valid and keep their contents.
                assert_eq!(*before, 7);
                let moved = a.realloc(before, layout, 1 << 20);
                assert_eq!(*moved, 7);
                a.dealloc(moved, Layout::from_size_align(1 << 20, 8).expect("layout"));
                a.dealloc(after, layout);
            }
        });
    }

    #[test]
    fn the_process_allocator_reserves_its_region_on_first_use() {
        static LAZY: Region = Region::new(3);
        let a = BerthAlloc {
            region: &LAZY,
            reserve_on_first_use: true,
        };
        on_new_thread(move || {
            let layout = Layout::from_size_align(24, 8).expect("layout");
            // SAFETY: a non-zero size.
            let p = unsafe { a.alloc(layout) };
            assert!(LAZY.contains(p as usize));
        });
    }
}
