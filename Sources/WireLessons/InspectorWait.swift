// A bounded wait for `inspect`: read until the bytes say enough, the connection ends, or a
// deadline passes — whichever comes first. A quiet server (`wirelab serve --rate 0`) sends
// nothing after the handshake, and `inspect` must say so instead of hanging or failing.
//
// poll(2) before each read, with the time that is left, so no recv() ever blocks past the
// deadline (the socket's own SO_RCVTIMEO stays as the outer safety net).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import WireLoop

/// How a bounded read ended.
public enum WaitOutcome: Equatable {
    /// The bytes asked for are in the buffer.
    case done
    /// The deadline passed first: the peer was quiet.
    case quiet
    /// The peer closed the connection (or the socket failed) first.
    case closed
}

extension BlockingClient {
    /// Reads until `done(buffer)`, EOF, or `seconds` have passed.
    func read(until done: ([UInt8]) -> Bool, within seconds: Double) -> WaitOutcome {
        let deadline = LoopClock.monotonicNanos() + Int64(max(0, seconds) * 1e9)
        while !done(buffer) {
            let left = deadline - LoopClock.monotonicNanos()
            if left <= 0 { return .quiet }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ms = Int32(min(left / 1_000_000 + 1, 60_000))
            let rc = poll(&p, 1, ms)
            if rc < 0 {
                if errno == EINTR { continue }
                return .closed
            }
            if rc == 0 { continue }   // the loop re-checks the deadline
            if !readMore() { return done(buffer) ? .done : .closed }
        }
        return .done
    }
}
