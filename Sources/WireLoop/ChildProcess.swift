// Runs a program to completion and collects what it printed: posix_spawn, two pipes read with
// poll(), and waitpid with a deadline.
//
// Why not Foundation's Process: on Linux its waitUntilExit() learns of a child's exit through
// its own SIGCHLD monitoring, and on a loaded machine it can miss it. The child is then a zombie
// nobody reaps and waitUntilExit() waits forever (seen in `make test` while `make bench` ran
// beside it: a test stuck 18 minutes on an exited `wirelab race`). Here the caller's thread
// reaps its own child, and gives up (SIGKILL) at a deadline instead of hanging.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum ChildProcess {
    public struct Result {
        /// The exit status, or 128 + the signal that ended it.
        public var status: Int32
        public var stdout: [UInt8]
        public var stderr: [UInt8]
        /// True when the deadline passed and the child was killed.
        public var timedOut: Bool
    }

    public struct SpawnError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs `path` with `arguments`, feeds it `input` on stdin (then end of file), and returns
    /// once it has exited. `environment` nil: this process's own.
    public static func run(_ path: String, _ arguments: [String], input: [UInt8] = [],
                           environment: [String: String]? = nil, timeoutSeconds: Double = 120) throws -> Result {
        var inPipe: [Int32] = [0, 0], outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard pipe(&inPipe) == 0, pipe(&outPipe) == 0, pipe(&errPipe) == 0 else {
            throw SpawnError(description: "pipe: errno \(errno)")
        }
        // Our ends must not leak into the child (nor into other children spawned meanwhile).
        for fd in [inPipe[1], outPipe[0], errPipe[0]] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }

        #if canImport(Glibc)
        var actions = posix_spawn_file_actions_t()
        #else
        var actions: posix_spawn_file_actions_t?
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in [inPipe[0], outPipe[1], errPipe[1]] { posix_spawn_file_actions_addclose(&actions, fd) }

        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        let envStrings = environment.map { $0.map { "\($0.key)=\($0.value)" } }
        let envp: [UnsafeMutablePointer<CChar>?]? = envStrings.map { $0.map { strdup($0) } + [nil] }
        defer {
            argv.forEach { free($0) }
            envp?.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc: Int32
        if let envp {
            rc = posix_spawn(&pid, path, &actions, nil, argv, envp)
        } else {
            rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
        }
        for fd in [inPipe[0], outPipe[1], errPipe[1]] { close(fd) }
        guard rc == 0 else {
            for fd in [inPipe[1], outPipe[0], errPipe[0]] { close(fd) }
            throw SpawnError(description: "posix_spawn \(path): error \(rc)")
        }

        let deadline = monotonicSeconds() + timeoutSeconds
        // stdin: small inputs (a typed answer); a child that never reads it gets EPIPE, not us.
        var sent = 0
        while sent < input.count {
            let n = input[sent...].withUnsafeBytes { write(inPipe[1], $0.baseAddress, $0.count) }
            if n <= 0 { break }
            sent += n
        }
        close(inPipe[1])

        var out: [UInt8] = [], err: [UInt8] = []
        var open: [(fd: Int32, isOut: Bool)] = [(outPipe[0], true), (errPipe[0], false)]
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        var timedOut = false
        while !open.isEmpty {
            let left = deadline - monotonicSeconds()
            if left <= 0 { timedOut = true; break }
            var fds = open.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(left, 1) * 1000))
            if ready < 0 && errno != EINTR { break }
            for (i, p) in fds.enumerated().reversed() where p.revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    if open[i].isOut { out += buffer[0..<n] } else { err += buffer[0..<n] }
                } else if n == 0 || errno != EINTR {
                    close(p.fd)
                    open.remove(at: i)
                }
            }
        }
        for o in open { close(o.fd) }

        // Reap it ourselves; past the deadline, kill it first.
        var status: Int32 = 0
        if timedOut { kill(pid, SIGKILL) }
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { break }
            if !timedOut && monotonicSeconds() >= deadline {
                timedOut = true
                kill(pid, SIGKILL)
            }
            usleep(2_000)
        }
        return Result(status: exitStatus(waitStatus: status), stdout: out, stderr: err, timedOut: timedOut)
    }

    /// waitpid's status word as a shell shows it: the exit status, or 128 + the signal that
    /// ended the process (the WIFEXITED / WEXITSTATUS / WTERMSIG macros, which Swift cannot call).
    public static func exitStatus(waitStatus status: Int32) -> Int32 {
        (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    private static func monotonicSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}
