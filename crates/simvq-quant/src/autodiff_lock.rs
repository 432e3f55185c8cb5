//! One thread at a time through burn's autodiff graph.
//!
//! burn 0.21's autodiff keeps every thread's graphs in one process-wide locator, and a
//! `backward()` ends by sweeping *all* of them for roots nobody holds. An operation on a
//! parameter that already went through a backward (every training step after the first) starts
//! a one-node graph and, inside ops such as `cat`, briefly drops its only handle on it before
//! registering its own step. A sweep from another thread in that window frees the step and the
//! gradient through it is silently lost (tracel-ai/burn#5573, fixed after 0.21 by
//! tracel-ai/burn#5647). Within one training run this cannot happen: every step, data-parallel
//! shards included, runs on one thread. It happens when two threads train in one process: two
//! runs of a sweep, or the tests of one test binary, where it made a resumed run's
//! discriminator differ from the uninterrupted one's in one run out of ten.
//!
//! Holding [`autodiff_lock`] while building a graph and calling backward makes such threads
//! take turns. The training loops of `simvq-train` hold it for each step; code that runs its
//! own backward on several threads should hold it around each forward-and-backward. It is
//! reentrant, so a caller holding it may call code that takes it again.

use parking_lot::{ReentrantMutex, ReentrantMutexGuard};

static AUTODIFF: ReentrantMutex<()> = ReentrantMutex::new(());

/// Proof of holding the process-wide autodiff lock; released when dropped.
pub type AutodiffGuard = ReentrantMutexGuard<'static, ()>;

/// Waits for and takes the process-wide autodiff lock (see the module docs for why it exists).
pub fn autodiff_lock() -> AutodiffGuard {
    AUTODIFF.lock()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_is_reentrant_and_excludes_other_threads() {
        let outer = autodiff_lock();
        let inner = autodiff_lock();
        let taken_elsewhere = std::thread::spawn(|| AUTODIFF.try_lock().is_some())
            .join()
            .unwrap();
        assert!(!taken_elsewhere, "another thread took the held lock");
        drop((inner, outer));
        let free_elsewhere = std::thread::spawn(|| AUTODIFF.try_lock().is_some())
            .join()
            .unwrap();
        assert!(
            free_elsewhere,
            "the lock stayed taken after both guards dropped"
        );
    }
}
