// ChildProcess: exit status, both outputs, stdin, the environment, and a deadline that kills
// instead of hanging (the reason it exists: Foundation's Process can miss a child's exit).
import XCTest
@testable import WireLoop

final class ChildProcessTests: XCTestCase {
    func testStatusOutputsAndStdin() throws {
        let r = try ChildProcess.run("/bin/sh", ["-c", "read x; echo out:$x; echo err >&2; exit 3"], input: Array("hello\n".utf8))
        XCTAssertEqual(r.status, 3)
        XCTAssertEqual(String(decoding: r.stdout, as: UTF8.self), "out:hello\n")
        XCTAssertEqual(String(decoding: r.stderr, as: UTF8.self), "err\n")
        XCTAssertFalse(r.timedOut)
    }

    /// The status word as waitpid gives it (exit code in bits 8–15, signal in 0–6), and a real
    /// child that a signal ended: 128 + the signal, as a shell reports it.
    func testExitStatusIsTheShellsNumber() throws {
        XCTAssertEqual(ChildProcess.exitStatus(waitStatus: 3 << 8), 3)
        XCTAssertEqual(ChildProcess.exitStatus(waitStatus: 0), 0)
        XCTAssertEqual(ChildProcess.exitStatus(waitStatus: SIGKILL), 128 + SIGKILL)
        let r = try ChildProcess.run("/bin/sh", ["-c", "kill -TERM $$"])
        XCTAssertEqual(r.status, 128 + SIGTERM)
    }

    func testEnvironmentIsPassed() throws {
        let r = try ChildProcess.run("/bin/sh", ["-c", "printf %s \"$WIRELAB_X\""], environment: ["WIRELAB_X": "42", "PATH": "/usr/bin:/bin"])
        XCTAssertEqual(String(decoding: r.stdout, as: UTF8.self), "42")
    }

    func testLargeOutputOnBothPipesDoesNotDeadlock() throws {
        // 1 MB on each pipe, far past a pipe's 64 KiB: read together or the child would block.
        let r = try ChildProcess.run("/bin/sh", ["-c", "head -c 1000000 /dev/zero; head -c 1000000 /dev/zero >&2"])
        XCTAssertEqual(r.stdout.count, 1_000_000)
        XCTAssertEqual(r.stderr.count, 1_000_000)
        XCTAssertEqual(r.status, 0)
    }

    func testDeadlineKillsAChildThatDoesNotExit() throws {
        let start = Date()
        let r = try ChildProcess.run("/bin/sleep", ["30"], timeoutSeconds: 0.3)
        XCTAssertTrue(r.timedOut)
        XCTAssertEqual(r.status, 128 + SIGKILL)
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
    }

    func testAMissingProgramIsAnError() {
        XCTAssertThrowsError(try ChildProcess.run("/nonexistent/wirelab", []))
    }
}
