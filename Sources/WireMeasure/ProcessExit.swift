// Waiting for a child that Foundation's Process started, without hanging.
//
// On Linux, Process learns of a child's exit through its own SIGCHLD monitoring, and on a loaded
// machine it can miss it: the child stays a zombie, `isRunning` stays true and waitUntilExit()
// never returns (seen in `make test`: a test stuck 18 minutes on an exited child). So: wait for
// Process to notice, as usual; if it has not after a grace period, reap the child ourselves with
// waitpid; past the deadline, SIGKILL. Short programs are run with WireLoop's ChildProcess
// instead, which never relies on the monitor.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import WireLoop

extension Process {
    /// Waits until the child has exited (SIGKILL after `timeoutSeconds`). Returns its exit status
    /// (128 + signal when a signal ended it), nil if it could not be learned.
    @discardableResult
    public func waitForExit(timeoutSeconds: Double = 30) -> Int32? {
        let start = Date()
        var killed = false
        while true {
            if !isRunning {
                return terminationReason == .exit ? terminationStatus : 128 + terminationStatus
            }
            let waited = Date().timeIntervalSince(start)
            if waited > 2 {
                // Process has had ample time to notice: maybe it missed the exit. Reap it here.
                var status: Int32 = 0
                if waitpid(processIdentifier, &status, WNOHANG) == processIdentifier {
                    return ChildProcess.exitStatus(waitStatus: status)
                }
            }
            if waited > timeoutSeconds {
                if killed && waited > timeoutSeconds + 5 { return nil }
                if !killed { kill(processIdentifier, SIGKILL); killed = true }
            }
            usleep(5_000)
        }
    }
}
