// `wirelab race` usage errors exit 2 with one line naming the flag (PROTOCOL.md §4); runtime
// failures exit 1. Runs the built binary, next to the test bundle.
import XCTest
import Foundation
import WireLoop

final class CommandLineTests: XCTestCase {
    func binary() throws -> URL {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for dir in [bundle, URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()] {
            let candidate = dir.appendingPathComponent("wirelab")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw XCTSkip("wirelab binary not built next to the tests")
    }

    func run(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        // ChildProcess, not Foundation's Process: see ChildProcess.swift (a missed exit hung here).
        let r = try ChildProcess.run(try binary().path, ["race"] + args)
        XCTAssertFalse(r.timedOut, "wirelab race \(args) did not exit")
        return (r.status, String(decoding: r.stdout, as: UTF8.self), String(decoding: r.stderr, as: UTF8.self))
    }

    func assertUsageError(_ args: [String], names flag: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try run(args)
        XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)", file: file, line: line)
        let lines = r.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "one line: \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.contains(flag), "\(r.stderr) names \(flag)", file: file, line: line)
    }

    func testBadValuesExit2NamingTheFlag() throws {
        try assertUsageError(["--duration", "soon"], names: "--duration")
        try assertUsageError(["--duration", "0"], names: "--duration")
        try assertUsageError(["--clients", "0"], names: "--clients")
        try assertUsageError(["--clients", "20000"], names: "--clients")
        try assertUsageError(["--transports", "poll,pigeon"], names: "--transports")
        try assertUsageError(["--format", "xml"], names: "--format")
        try assertUsageError(["--poll-interval"], names: "--poll-interval")
        try assertUsageError(["--url", "localhost:80"], names: "--url")
        try assertUsageError(["--colour", "red"], names: "--colour")
        // PROTOCOL.md §8 flags.
        try assertUsageError(["--reconnect", "sometimes"], names: "--reconnect")
        try assertUsageError(["--fallback-after", "-1"], names: "--fallback-after")
        try assertUsageError(["--transports", "auto,auto"], names: "--transports")
        try assertUsageError(["--via", ""], names: "--via")
    }

    func testABadProxyFlagInsideViaIsAUsageErrorNamingIt() throws {
        let r = try run(["--via", "--delay soon", "--duration", "0.1", "--transports", "ws"])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("--via") && r.stderr.contains("--delay"), r.stderr)
    }

    func testHelpNamesTheReconnectPoliciesAndTheNewColumns() throws {
        let r = try run(["--help"])
        XCTAssertEqual(r.status, 0)
        for word in ["--via", "--reconnect", "immediate", "backoff", "jitter", "--fallback-after", "auto",
                     "reconn", "out of order", "connects_per_100ms", "path"] {
            XCTAssertTrue(r.stdout.contains(word), word)
        }
    }

    func testUnknownScenarioKeyExits2NamingTheKey() throws {
        let path = NSTemporaryDirectory() + "wirelab-scenario-\(getpid()).json"
        try Data(#"{"duration":1,"speed":3}"#.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        try assertUsageError(["--scenario", path], names: "speed")
    }

    func testBadOutputPathExits1() throws {
        let r = try run(["--duration", "0.1", "--output", "/nonexistent-dir/x.json"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("/nonexistent-dir/x.json"))
    }

    func testHelpExplainsTheWireEstimate() throws {
        let r = try run(["--help"])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.contains("TCP_INFO"))
        XCTAssertTrue(r.stdout.contains("--poll-interval"))
    }
}
