// The event loop (in the spirit of redis's ae.c): one thread, one Selector, handlers indexed by
// file descriptor, a timer heap, and a queue through which other threads hand it work.
//
// Theory of operation: `run()` repeats
//   1. wait on the selector until an fd is ready or the earliest timer is due;
//   2. call each ready fd's handler (read and/or write);
//   3. run due timers;
//   4. run closures queued by other threads (`execute`).
// Everything a handler touches belongs to this thread, so handlers take no locks. The only
// cross-thread entry points are `execute` and `stop`, which take `queueLock` and wake the selector.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// What the loop calls when an fd is ready. Implemented by connections and listeners.
public protocol FDHandler: AnyObject {
    func handleReadable()
    func handleWritable()
    /// Error or hang-up reported by the selector (after any readable call).
    func handleHangup()
}

public final class EventLoop {
    public let index: Int
    public let selector: Selector
    /// Monotonic time for the timers: the system's, or a test's `ManualClock`.
    public let clock: MonotonicTimeSource
    private var handlers: [FDHandler?] = []
    private var timers = TimerHeap()
    private let queueLock = Lock()
    private var queue: [() -> Void] = []
    private var stopping = false
    private var closed = false
    private let finished = DoneSignal()
    private var thread: Thread?
    private var threadID: pthread_t?

    public init(index: Int = 0, selector: SelectorKind = .platformDefault,
                clock: MonotonicTimeSource = SystemMonotonicClock.shared) {
        self.index = index
        self.selector = makeSelector(selector)
        self.clock = clock
        // A manual clock wakes the loop when a test moves it (weak: the clock may outlive us).
        clock.onAdvance { [weak self] in self?.selector.wakeUp() }
    }

    /// The loop's monotonic time, ns: deadlines for `schedule(atNanos:)` are on this clock.
    @inline(__always)
    public var nowNanos: Int64 { clock.nowNanos() }

    /// The loop's monotonic time at the start of this turn's work: read once when the wait
    /// returns and once before the timers run. Handlers compute deadlines from it, so a turn that
    /// answers fifty requests reads the clock twice, not a hundred times (nginx does the same:
    /// `ngx_time_update` once per turn of its loop). It is behind the true time by at most the
    /// turn's own work, so a deadline computed from it is that much early, never late.
    public private(set) var turnNanos: Int64 = 0

    // MARK: fds

    public func add(fd: Int32, handler: FDHandler, interest: SelectorInterest = .read) {
        let i = Int(fd)
        if i >= handlers.count { handlers += [FDHandler?](repeating: nil, count: i + 1 - handlers.count + 64) }
        handlers[i] = handler
        selector.register(fd: fd, interest: interest)
    }
    public func setInterest(fd: Int32, _ interest: SelectorInterest) {
        selector.reregister(fd: fd, interest: interest)
    }
    /// Forgets the fd; the caller closes it.
    public func remove(fd: Int32) {
        selector.deregister(fd: fd)
        if Int(fd) < handlers.count { handlers[Int(fd)] = nil }
    }

    // MARK: timers (loop thread only)

    @discardableResult
    public func schedule(afterNanos delay: Int64, _ action: @escaping () -> Void) -> LoopTimer {
        timers.add(deadline: clock.nowNanos() + delay, action: action)
    }
    @discardableResult
    public func schedule(atNanos deadline: Int64, _ action: @escaping () -> Void) -> LoopTimer {
        timers.add(deadline: deadline, action: action)
    }

    // MARK: cross-thread

    /// Runs `work` on the loop thread soon. Safe from any thread.
    public func execute(_ work: @escaping () -> Void) {
        let open = queueLock.withLock { () -> Bool in
            guard !closed else { return false }
            queue.append(work)
            return true
        }
        if open { selector.wakeUp() }
    }

    /// Queues `work` without waking the loop: for a caller that holds a lock of its own and
    /// wakes the loop (`wakeUp`) after releasing it, so no system call runs under its lock.
    public func enqueue(_ work: @escaping () -> Void) {
        queueLock.withLock { if !closed { queue.append(work) } }
    }

    /// Makes the loop look at its queue. Safe from any thread.
    public func wakeUp() {
        if !queueLock.withLock({ closed }) { selector.wakeUp() }
    }

    public var isOnLoopThread: Bool {
        guard let t = threadID else { return false }
        return pthread_equal(t, pthread_self()) != 0
    }

    // MARK: running

    /// Starts the loop on a thread of its own.
    public func start(name: String) {
        let t = Thread { [self] in self.run() }
        t.name = name
        t.stackSize = 1 << 20
        thread = t
        t.start()
    }

    public func stop() {
        queueLock.withLock { stopping = true }
        selector.wakeUp()
    }

    /// Runs on the calling thread until `stop()`.
    public func run() {
        threadID = pthread_self()
        var ready: [SelectorEvent] = []
        ready.reserveCapacity(256)
        var pending: [() -> Void] = []
        while true {
            // 1. Wait, no longer than the earliest timer.
            timers.dropCancelledHead()
            var timeout: Int32 = -1
            if let deadline = timers.earliestDeadline {
                let ms = (deadline - clock.nowNanos() + 999_999) / 1_000_000
                timeout = Int32(max(0, min(ms, 60_000)))
            }
            let hasQueued = queueLock.withLock { !queue.isEmpty || stopping }
            if hasQueued { timeout = 0 }
            ready.removeAll(keepingCapacity: true)
            selector.wait(timeoutMs: timeout, into: &ready)
            turnNanos = clock.nowNanos()

            // 2. Ready fds. A handler may close another fd: look the handler up each time.
            for event in ready {
                let i = Int(event.fd)
                if event.readable || (event.hangup && !event.writable) {
                    if i < handlers.count, let h = handlers[i] { h.handleReadable() }
                }
                if event.writable {
                    if i < handlers.count, let h = handlers[i] { h.handleWritable() }
                }
                if event.hangup {
                    if i < handlers.count, let h = handlers[i] { h.handleHangup() }
                }
            }

            // 3. Due timers.
            let now = clock.nowNanos()
            turnNanos = now
            while let timer = timers.popDue(now: now) {
                if !timer.isCancelled { timer.action() }
            }

            // 4. Work from other threads.
            var stopNow = false
            queueLock.withLock {
                swap(&pending, &queue)
                stopNow = stopping
            }
            for work in pending { work() }
            pending.removeAll(keepingCapacity: true)
            if stopNow { break }
        }
        finished.signal()
    }

    /// Waits until `run()` has returned (after `stop()`); false after `seconds`.
    public func waitUntilStopped(seconds: Double) -> Bool {
        if thread == nil && threadID == nil { return true }   // never ran
        return finished.wait(seconds: seconds)
    }

    /// After the loop has stopped: forget handlers, timers and queued work (their closures may
    /// hold the objects that own this loop) and close the selector's descriptors.
    public func close() {
        let already = queueLock.withLock { () -> Bool in
            let was = closed
            closed = true
            queue.removeAll()
            return was
        }
        guard !already else { return }
        handlers = []
        timers = TimerHeap()
        selector.close()
    }
}

/// A one-shot signal with a timed wait (the loop thread says "I have stopped").
final class DoneSignal {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var done = false
    init() { pthread_mutex_init(mutex, nil); pthread_cond_init(cond, nil) }
    deinit {
        pthread_cond_destroy(cond); pthread_mutex_destroy(mutex)
        cond.deallocate(); mutex.deallocate()
    }
    func signal() {
        pthread_mutex_lock(mutex); done = true; pthread_cond_broadcast(cond); pthread_mutex_unlock(mutex)
    }
    func wait(seconds: Double) -> Bool {
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        let ns = Int(deadline.tv_nsec) + Int(seconds * 1e9)
        deadline.tv_sec += ns / 1_000_000_000
        deadline.tv_nsec = ns % 1_000_000_000
        pthread_mutex_lock(mutex)
        while !done {
            if pthread_cond_timedwait(cond, mutex, &deadline) != 0 { break }
        }
        let result = done
        pthread_mutex_unlock(mutex)
        return result
    }
}
