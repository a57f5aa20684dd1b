// `race --via "FLAGS"` (PROTOCOL.md §8): race starts `wirelab proxy --upstream <server> FLAGS`
// as a child process and sends every client through it; /stats, /time and /control still go
// to the server directly, so the measurement's own requests cross no impairment.
//
//     race ──clients──▶ wirelab proxy (child) ──▶ server
//       └──────────── control channel ───────────▶ server
//
// The proxy's first stdout line (PROTOCOL.md §7) says where it listens:
//     wirelab proxy listening on http://HOST:PORT -> UPSTREAM
// At the end race sends SIGTERM; the proxy closes its connections and prints one JSON line of
// counters, which race keeps for the report.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

final class ChildProxy {
    let process = Process()
    let endpoint: RaceEndpoint
    /// The JSON line the proxy printed at exit, once stopped.
    private(set) var exitReport: String?
    private let out = Pipe()
    private let err = Pipe()

    /// The flags as the proxy's argv: split at white space (no quoting: no proxy flag takes a
    /// value with a space).
    static func split(_ flags: String) -> [String] {
        flags.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
    }

    init(executable: String, upstream: RaceEndpoint, flags: String, timeoutSeconds: Double = 10) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["proxy", "--upstream", "http://\(upstream.hostHeader)"] + Self.split(flags)
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch {
            throw RaceError("--via: cannot start \(executable) proxy: \(error)")
        }
        let line = Self.readLine(out.fileHandleForReading.fileDescriptor, timeoutSeconds: timeoutSeconds)
        let prefix = "wirelab proxy listening on "
        guard let line, line.hasPrefix(prefix) else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            let status = process.waitForExit()
            let why = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if status == 2 {
                // The proxy's own usage error (PROTOCOL.md §4): a bad flag inside --via is a
                // usage error of race too, named in one line.
                let first = why.split(separator: "\n").first.map(String.init) ?? why
                throw RaceSettingsError("--via \"\(flags)\": \(first)")
            }
            throw RaceError("--via \"\(flags)\": the proxy did not start" + (why.isEmpty ? " (got '\(line ?? "")')" : ": \(why)"))
        }
        // "http://HOST:PORT -> UPSTREAM"
        let url = line.dropFirst(prefix.count).split(separator: " ").first.map(String.init) ?? ""
        do { endpoint = try RaceEndpoint(url: url) } catch {
            kill(process.processIdentifier, SIGKILL)
            process.waitForExit()
            throw RaceError("--via: the proxy printed an address race cannot read: '\(line)'")
        }
        // While it runs, what the proxy says on stderr (its notes on open-file limits) would only
        // clutter race's report: read and drop it, so the pipe never fills and blocks the proxy.
        err.fileHandleForReading.readabilityHandler = { h in
            if h.availableData.isEmpty { h.readabilityHandler = nil }
        }
    }

    /// SIGTERM, then keep the JSON line it prints; SIGKILL if it has not exited within 5 s.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let fd = out.fileHandleForReading.fileDescriptor
        let deadline = Date().addingTimeInterval(5)
        var rest: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 100) >= 0 else { break }
            if p.revents == 0 { if process.isRunning { continue } else { break } }
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            rest += buffer[0..<n]
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitForExit()
        let lines = String(decoding: rest, as: UTF8.self).split(separator: "\n")
        exitReport = lines.last(where: { $0.hasPrefix("{") }).map(String.init)
    }

    /// One line from `fd`, waiting at most `timeoutSeconds`; nil on EOF or timeout.
    static func readLine(_ fd: Int32, timeoutSeconds: Double) -> String? {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while line.last != UInt8(ascii: "\n") {
            let left = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard left > 0, poll(&p, 1, left) > 0 else { return nil }
            guard read(fd, &byte, 1) == 1 else { break }
            line.append(byte)
        }
        guard !line.isEmpty else { return nil }
        return String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
