//! The bound on password hashing: at most `concurrency` argon2 computations at once, server-wide,
//! and at most `queue` more waiting for a turn. Each computation holds its memory (19 MiB with
//! OWASP's parameters) for its whole run, so without a bound a burst of sign-ins, wrong or not,
//! grows the process by that much per request. Work beyond the queue is refused at once with
//! `AppError::Busy` rather than waiting: a waiting request costs little, but an unbounded line of
//! them only delays every answer past any client's patience.
//!
//! The computations run on `concurrency` threads of their own, each computing in one `Scratch`
//! buffer it keeps while work keeps coming (and gives back after `IDLE_RELEASE` without any). Bounding only how many run at once is not enough: allocating and
//! freeing 19 MiB per computation on whichever blocking-pool thread is free leaves the allocator
//! holding hundreds of MiB after a burst (measured: 64 checks two at a time left the process at
//! ~700 MiB). With fixed threads and buffers, hashing memory is `concurrency` buffers at most, and none
//! once the sign-ins stop.
//!
//! Machinery only: what is hashed, and when, is the domain's (`domain::password`).

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Semaphore, oneshot};

use crate::error::{AppError, Result};

/// Waiting turns allowed per concurrent computation when no queue length is configured.
pub const DEFAULT_QUEUE_PER_PERMIT: usize = 4;

/// Seconds a refused caller is told to wait (`Retry-After`): one computation takes tens of
/// milliseconds, so the line has usually moved on by then.
const RETRY_AFTER_SECS: u64 = 1;

/// A computation handed to the hashing threads.
type Job = Box<dyn FnOnce(&mut Scratch) + Send>;

/// The working memory of one hashing thread, reused by each computation it runs (argon2's
/// memory-hard buffer: `m` KiB as 1 KiB blocks).
#[derive(Default)]
pub struct Scratch(Vec<argon2::Block>);

/// Blocks reserved for a buffer, at least: 33 MiB, above glibc's largest mmap threshold
/// (32 MiB on 64-bit), so the buffer is mapped on its own and unmapped when dropped. A smaller
/// one would come from the heap once glibc had raised its threshold to the size of a freed
/// buffer, and stay resident after being freed. Reserved pages that are never touched cost no
/// memory.
const RESERVE_BLOCKS: usize = 33 * 1024;

/// A hashing thread with no work for this long gives its buffer back to the system: the
/// memory of a burst of sign-ins does not outlive it.
const IDLE_RELEASE: Duration = Duration::from_secs(2);

impl Scratch {
    /// The first `count` blocks, growing the buffer when a computation needs more than any
    /// before it on this thread.
    pub fn blocks(&mut self, count: usize) -> &mut [argon2::Block] {
        if self.0.len() < count {
            if self.0.capacity() < count {
                let mut fresh = Vec::with_capacity(count.max(RESERVE_BLOCKS));
                fresh.extend_from_slice(&self.0);
                self.0 = fresh;
            }
            self.0.resize(count, argon2::Block::default());
        }
        &mut self.0[..count]
    }
}

/// Admission to password hashing; cheap to clone (every clone shares the same permits and
/// threads). The threads start on first use and end when the last clone is dropped.
#[derive(Clone)]
pub struct HashGate {
    /// A turn to compute: `concurrency` of them.
    running: Arc<Semaphore>,
    /// A place in the building, computing or waiting: `concurrency + queue` of them, taken
    /// without waiting so that a full line refuses instead of growing.
    admitted: Arc<Semaphore>,
    /// The way to the hashing threads, once started.
    threads: Arc<Mutex<Option<flume::Sender<Job>>>>,
    concurrency: usize,
    queue: usize,
}

impl HashGate {
    /// At most `concurrency` computations at once (at least one), and `queue` more waiting.
    pub fn new(concurrency: usize, queue: usize) -> Self {
        let concurrency = concurrency.clamp(1, 1024);
        let queue = queue.min(Semaphore::MAX_PERMITS / 2);
        Self {
            running: Arc::new(Semaphore::new(concurrency)),
            admitted: Arc::new(Semaphore::new(concurrency + queue)),
            threads: Arc::default(),
            concurrency,
            queue,
        }
    }

    /// One computation per core, with `DEFAULT_QUEUE_PER_PERMIT` waiting turns per computation.
    pub fn per_core() -> Self {
        let cores = default_concurrency();
        Self::new(cores, cores * DEFAULT_QUEUE_PER_PERMIT)
    }

    /// How many computations may run at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// How many more may wait for a turn.
    pub fn queue(&self) -> usize {
        self.queue
    }

    /// Runs `work` on a hashing thread, in that thread's `Scratch`, once a turn is free, or
    /// refuses at once with
    /// `AppError::Busy` when every turn and every place in the line is taken.
    ///
    /// The turn moves with `work` and is released only when `work` returns, so a caller that
    /// gives up (a client that disconnects) does not free its turn while the computation, and
    /// its memory, are still alive.
    pub async fn run<T, F>(&self, work: F) -> Result<T>
    where
        F: FnOnce(&mut Scratch) -> T + Send + 'static,
        T: Send + 'static,
    {
        let place = Arc::clone(&self.admitted)
            .try_acquire_owned()
            .map_err(|_| AppError::Busy {
                retry_after_secs: RETRY_AFTER_SECS,
            })?;
        let turn = Arc::clone(&self.running)
            .acquire_owned()
            .await
            .map_err(AppError::internal)?;
        let (done, answer) = oneshot::channel();
        let job: Job = Box::new(move |scratch| {
            let out = work(scratch);
            // Freed before the answer, so whoever has the answer finds the turn free again.
            drop(turn);
            drop(place);
            let _ = done.send(out);
        });
        self.threads()?
            .send(job)
            .map_err(|_| AppError::internal(anyhow::anyhow!("the hashing threads are gone")))?;
        answer
            .await
            .map_err(|_| AppError::internal(anyhow::anyhow!("a password computation panicked")))
    }

    /// The way to the hashing threads, starting them on first use.
    fn threads(&self) -> Result<flume::Sender<Job>> {
        let mut threads = self
            .threads
            .lock()
            .map_err(|_| AppError::internal(anyhow::anyhow!("hashing threads lock poisoned")))?;
        if let Some(jobs) = threads.as_ref() {
            return Ok(jobs.clone());
        }
        let jobs = start_threads(self.concurrency)?;
        *threads = Some(jobs.clone());
        Ok(jobs)
    }
}

/// Starts `count` threads that run jobs until every sender is dropped. A job that panics takes
/// only its own answer with it (its caller sees an internal error), never the thread.
fn start_threads(count: usize) -> Result<flume::Sender<Job>> {
    let (jobs, queue) = flume::unbounded::<Job>();
    for i in 0..count {
        let queue = queue.clone();
        std::thread::Builder::new()
            .name(format!("password-hash-{i}"))
            .spawn(move || {
                let mut scratch = Scratch::default();
                // Each thread waits on the queue with its own timeout, so each gives its
                // buffer back once it has been idle, whichever thread took the last job.
                loop {
                    match queue.recv_timeout(IDLE_RELEASE) {
                        Ok(job) => {
                            let run = AssertUnwindSafe(|| job(&mut scratch));
                            let _ = std::panic::catch_unwind(run);
                        }
                        Err(flume::RecvTimeoutError::Timeout) => scratch = Scratch::default(),
                        Err(flume::RecvTimeoutError::Disconnected) => return,
                    }
                }
            })
            .map_err(|e| AppError::internal(anyhow::anyhow!("starting a hashing thread: {e}")))?;
    }
    Ok(jobs)
}

impl Default for HashGate {
    fn default() -> Self {
        Self::per_core()
    }
}

/// One computation per core the process may use.
pub fn default_concurrency() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// Starts a computation that runs until `release` is sent something (or dropped).
    fn blocked(gate: &HashGate) -> (tokio::task::JoinHandle<Result<()>>, mpsc::Sender<()>) {
        let (release, wait) = mpsc::channel::<()>();
        let gate = gate.clone();
        let task = tokio::spawn(async move {
            gate.run(move |_| {
                let _ = wait.recv();
            })
            .await
        });
        (task, release)
    }

    /// Waits (up to five seconds) until `free` places are left in the gate.
    async fn settle(gate: &HashGate, free: usize) {
        for _ in 0..500 {
            if gate.admitted.available_permits() == free {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the gate never settled at {free} free places");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn refuses_beyond_the_queue_and_recovers() {
        let gate = HashGate::new(1, 1);
        let (running, release_running) = blocked(&gate);
        settle(&gate, 1).await;
        let (waiting, release_waiting) = blocked(&gate);
        settle(&gate, 0).await;

        let refused = gate.run(|_| ()).await;
        assert!(
            matches!(refused, Err(AppError::Busy { retry_after_secs }) if retry_after_secs > 0),
            "a third caller finds the turn and the line taken"
        );

        release_running.send(()).unwrap();
        release_waiting.send(()).unwrap();
        running.await.unwrap().unwrap();
        waiting.await.unwrap().unwrap();
        assert_eq!(gate.run(|_| 7).await.unwrap(), 7, "the gate recovers");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn never_runs_more_than_its_concurrency_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let gate = HashGate::new(2, 64);
        let now = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (gate, now, peak) = (gate.clone(), now.clone(), peak.clone());
            tasks.push(tokio::spawn(async move {
                gate.run(move |_| {
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(n, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(5));
                    now.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert!(peak.load(Ordering::SeqCst) <= 2);
    }

    #[tokio::test]
    async fn a_caller_that_gives_up_keeps_its_turn_until_the_work_ends() {
        let gate = HashGate::new(1, 0);
        let (running, release) = blocked(&gate);
        settle(&gate, 0).await;
        running.abort();
        let _ = running.await;
        assert!(
            matches!(gate.run(|_| ()).await, Err(AppError::Busy { .. })),
            "the abandoned computation still holds its turn"
        );
        release.send(()).unwrap();
        settle(&gate, 1).await;
        gate.run(|_| ()).await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_idle_hashing_thread_gives_its_buffer_back_and_a_busy_one_keeps_it() {
        let gate = HashGate::new(2, 4);
        let reserved = |gate: &HashGate| {
            let gate = gate.clone();
            async move { gate.run(|s| s.0.capacity()).await.unwrap() }
        };
        // Both threads compute at once, so both hold a buffer.
        let (a, b) = tokio::join!(
            gate.run(|s| {
                std::thread::sleep(Duration::from_millis(300));
                s.blocks(64).len()
            }),
            gate.run(|s| {
                std::thread::sleep(Duration::from_millis(300));
                s.blocks(64).len()
            }),
        );
        assert_eq!((a.unwrap(), b.unwrap()), (64, 64));
        // A buffer reserves past glibc's largest mmap threshold, so it is unmapped when dropped.
        assert!(reserved(&gate).await >= RESERVE_BLOCKS);
        tokio::time::sleep(IDLE_RELEASE * 2).await;
        // Idle long enough: whichever thread answers has nothing reserved any more.
        let (a, b) = tokio::join!(reserved(&gate), reserved(&gate));
        assert_eq!((a, b), (0, 0), "idle threads keep no buffer");
    }

    #[tokio::test]
    async fn a_panicking_computation_answers_an_error_and_spares_the_thread() {
        let gate = HashGate::new(1, 0);
        let failed = gate.run(|_| -> () { panic!("boom") }).await;
        assert!(matches!(failed, Err(AppError::Internal(_))));
        assert_eq!(gate.run(|s| s.blocks(3).len()).await.unwrap(), 3);
    }
}
