// The server a race measures: the user's (--url), or its own — in this process (a
// WireServer.Server on a free port) or, when the clients need more open files than one process
// may hold, a child `wirelab serve --port 0`.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import WireServer

enum ServerHandle {
    case external
    case inProcess(Server)
    case child(ChildServer)

    var kind: String {
        switch self {
        case .external: return "url"
        case .inProcess: return "in-process"
        case .child: return "child process"
        }
    }

    var isOwn: Bool {
        if case .external = self { return false }
        return true
    }

    var pid: Int32? {
        switch self {
        case .external: return nil
        case .inProcess: return getpid()
        case .child(let c): return c.process.processIdentifier
        }
    }

    func stop() {
        switch self {
        case .external: break
        case .inProcess(let s): s.shutdown(grace: 0.5)
        case .child(let c): c.stop()
        }
    }
}

final class ChildServer {
    let process = Process()
    private(set) var port = 0

    /// Starts `executable serve --host 127.0.0.1 --port 0 --rate R --size B` and reads the port
    /// from its first line ("wirelab listening on http://HOST:PORT", PROTOCOL.md §4).
    init(executable: String, rate: Double, size: Int) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", "0", "--rate", JSONValue.format(rate), "--size", String(size)]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.standardError
        do { try process.run() } catch {
            throw ControlError(message: "cannot start \(executable) serve: \(error)")
        }
        // Read the first line (blocking; serve flushes it at once).
        var line: [UInt8] = []
        let fd = out.fileHandleForReading.fileDescriptor
        var byte: UInt8 = 0
        while line.last != UInt8(ascii: "\n") {
            let n = read(fd, &byte, 1)
            if n <= 0 { break }
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let colon = text.lastIndex(of: ":"),
              let p = Int(text[text.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw ControlError(message: "child wirelab serve did not print its address (got '\(text)')")
        }
        port = p
    }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        process.waitForExit()
    }
}
