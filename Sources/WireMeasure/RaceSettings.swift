// What a race runs: the settings of PROTOCOL.md §4 `wirelab race`, also readable from a scenario
// file (a lesson's scenario.json) with the same names. Flags override the file; the command line
// applies them on top of `RaceSettings(scenario:)`.
import Foundation

/// The four transports, in the order they are reported, and `auto`, the client that negotiates
/// one of them (PROTOCOL.md §8).
public enum RaceTransport: String, CaseIterable, Equatable, Sendable {
    case poll, longpoll, sse, ws, auto

    /// The four transports of PROTOCOL.md §2 (the default race), without `auto`.
    public static let four: [RaceTransport] = [.poll, .longpoll, .sse, .ws]

    /// The endpoint path (PROTOCOL.md §2); `auto` has none of its own.
    public var path: String { "/" + rawValue }
}

/// `race --http`: the HTTP version the clients speak.
public enum RaceHTTPVersion: String, CaseIterable, Equatable, Sendable {
    case http1_1 = "1.1"
    case http2 = "2"
}

public enum RaceFormat: String, CaseIterable, Equatable {
    case table, markdown, csv, json
}

/// A usage problem in settings (a scenario key, a value out of range): the CLI exits 2.
public struct RaceSettingsError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// When race corrects latencies for the server's clock (README "Clock").
public enum RaceClockMode: String, CaseIterable, Equatable {
    /// Estimate the offset only for a remote server; the same host shares our clock.
    case auto
    /// Estimate it even on loopback: what a remote run does, checkable on one machine.
    case estimate
}

public struct RaceSettings: Equatable {
    // MARK: PROTOCOL.md §4 settings, with its defaults
    /// A server speaking the contract; nil: race starts its own.
    public var url: String?
    public var transports: [RaceTransport] = RaceTransport.four
    /// Seconds of measurement, fractional allowed.
    public var duration = 10.0
    /// Events per second of the server's generator (own server only).
    public var rate = 2.0
    /// `data` characters per generated event (own server only).
    public var size = 64
    /// Clients per transport.
    public var clients = 1
    /// Seconds between short polls.
    public var pollInterval = 1.0
    public var format = RaceFormat.table
    /// Request headers: a minimal client's, or Chromium's (BrowserHeaders.swift).
    public var headers = RequestHeaderSet.minimal

    // MARK: PROTOCOL.md §8 settings
    /// `wirelab proxy` flags: clients go through a proxy race starts with them; nil: direct.
    public var via: String?
    /// Library only (a lesson's real middlebox, e.g. nginx): the clients connect here while
    /// /stats, /time and /control still go to `url`. Counts differ from the server's by design.
    public var clientURL: String?
    /// What a client does after its connection drops.
    public var reconnect = ReconnectKind.jitter
    /// Milliseconds: an auto client's connection that dies sooner, before any event, fails its step.
    public var fallbackAfter = 1000.0

    // MARK: HTTP/2 (`--http 2`)
    /// The HTTP version the clients speak: 1.1, or 2 with prior knowledge (h2c, RFC 9113 §3.3).
    public var http = RaceHTTPVersion.http1_1
    /// With HTTP/2: one connection carries one client of every transport (one browser tab).
    public var share = false

    // MARK: library knobs (not in scenario files)
    /// A client that fails to connect (a 426 through a box that strips Upgrade) is reported in
    /// its transport's results instead of ending the race (lesson 10 shows what broke).
    public var keepGoingAfterFailures = false
    /// The `wirelab` executable, for a child `wirelab serve` when the clients need more open
    /// files than one process may hold. nil: always in-process.
    public var serverExecutable: String?
    /// Above this many clients in total, the own server runs as a child process.
    public var childServerThreshold = 4_000
    /// Pause the generator (POST /control {"rate":0}) when the run ends, so no event is in
    /// flight while the clients close and client and server byte counts agree exactly.
    /// nil: only when race started the server itself.
    public var pauseGeneratorAtEnd: Bool?
    /// Hold the generator at rate 0 while the clients connect and set it to `rate` when the run
    /// starts. A stream subscribes before the start, so an event published during a slow setup
    /// would put its bytes in the run's counts without being one of the run's events (at 100
    /// events/s, a setup of 0.2 s on a loaded machine added 12% to SSE's bytes per event).
    /// Only for a server whose generator runs at `rate`: nil means when race started the server.
    /// If no client became ready for a second, the hold ends (a client behind a buffering
    /// middlebox may need traffic to see its answer's head).
    public var quietWhileConnecting: Bool?
    /// Seconds (plus one per 500 clients) the clients get to connect and see their answer's head;
    /// a client still waiting then fails ("no answer within ...").
    public var setupTimeout = 30.0
    /// Seconds the clients get after the end to receive the last events published in the run.
    public var grace = 2.0
    /// At most this many TCP connects in progress at once (the listen backlog is finite).
    public var maxConcurrentConnects = 256
    /// `--clock`: auto (estimate for remote hosts only) or estimate (always).
    public var clock = RaceClockMode.auto

    public init() {}

    // MARK: accepted ranges, shared with the command line
    public static let durationRange = 0.05...86_400.0
    public static let rateRange = 0.0...100_000.0
    public static let sizeRange = 0...1_048_576
    public static let clientsRange = 1...10_000
    public static let pollIntervalRange = 0.01...3_600.0
    public static let fallbackAfterRange = 0.0...600_000.0
    /// The keys a scenario file may hold.
    public static let scenarioKeys = ["url", "transports", "duration", "rate", "size", "clients", "poll_interval", "format",
                                      "via", "reconnect", "fallback_after", "http", "share", "headers"]
    /// Keys a lesson's scenario.json adds for `wirelab lesson`; race ignores them, so
    /// `wirelab race --scenario Lessons/NN-slug/scenario.json` runs the lesson's base race.
    public static let lessonScenarioKeys = ["title", "lesson"]

    /// Settings from a scenario file's JSON (keys as in `scenarioKeys`); missing keys keep
    /// their defaults. `transports` is an array of names or one comma-separated string.
    public init(scenario data: Data) throws {
        self.init()
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: data), case .object(let fields) = value else {
            throw RaceSettingsError("scenario: not a JSON object")
        }
        var dict: [String: JSONValue] = [:]
        for (key, v) in fields where !Self.lessonScenarioKeys.contains(key) {
            guard Self.scenarioKeys.contains(key) else {
                throw RaceSettingsError("scenario: unknown key '\(key)' (known: \(Self.scenarioKeys.joined(separator: ", ")))")
            }
            dict[key] = v
        }
        func number(_ key: String) throws -> Double? {
            guard let v = dict[key] else { return nil }
            guard case .number(let n) = v else { throw RaceSettingsError("scenario: '\(key)' must be a number") }
            return n
        }
        func string(_ key: String) throws -> String? {
            guard let v = dict[key] else { return nil }
            guard case .string(let s) = v else { throw RaceSettingsError("scenario: '\(key)' must be a string") }
            return s
        }
        if let v = dict["url"] {
            switch v {
            case .null: url = nil
            case .string(let s): url = s
            default: throw RaceSettingsError("scenario: 'url' must be a string")
            }
        }
        if let v = dict["transports"] {
            var names: [String] = []
            switch v {
            case .string(let s): names = s.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            case .array(let items):
                for item in items {
                    guard case .string(let s) = item else { throw RaceSettingsError("scenario: 'transports' must be a list of \(Self.transportNames)") }
                    names.append(s)
                }
            default: throw RaceSettingsError("scenario: 'transports' must be a list of \(Self.transportNames)")
            }
            transports = try Self.parseTransports(names, what: "scenario: 'transports'")
        }
        if let d = try number("duration") { duration = d }
        if let r = try number("rate") { rate = r }
        if let s = try number("size") {
            guard s == s.rounded() else { throw RaceSettingsError("scenario: 'size' must be an integer") }
            size = Int(s)
        }
        if let c = try number("clients") {
            guard c == c.rounded() else { throw RaceSettingsError("scenario: 'clients' must be an integer") }
            clients = Int(c)
        }
        if let p = try number("poll_interval") { pollInterval = p }
        if let v = dict["via"] {
            switch v {
            case .null: via = nil
            case .string(let s): via = s
            default: throw RaceSettingsError("scenario: 'via' must be a string of proxy flags")
            }
        }
        if let r = try string("reconnect") {
            guard let kind = ReconnectKind(rawValue: r) else {
                throw RaceSettingsError("scenario: 'reconnect' must be one of \(ReconnectKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            reconnect = kind
        }
        if let f = try number("fallback_after") { fallbackAfter = f }
        if let v = dict["http"] {
            var name: String?
            switch v {
            case .string(let s): name = s
            case .number(let n): name = n == 2 ? "2" : n == 1.1 ? "1.1" : nil
            default: break
            }
            guard let name, let version = RaceHTTPVersion(rawValue: name) else {
                throw RaceSettingsError("scenario: 'http' must be \"1.1\" or \"2\"")
            }
            http = version
        }
        if let v = dict["share"] {
            guard case .bool(let b) = v else { throw RaceSettingsError("scenario: 'share' must be true or false") }
            share = b
        }
        if let f = try string("format") {
            guard let format = RaceFormat(rawValue: f) else {
                throw RaceSettingsError("scenario: 'format' must be one of \(RaceFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self.format = format
        }
        if let h = try string("headers") {
            guard let set = RequestHeaderSet(rawValue: h) else {
                throw RaceSettingsError("scenario: 'headers' must be one of \(RequestHeaderSet.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            headers = set
        }
        try validate(prefix: "scenario: ")
    }

    /// Reads a scenario file. A missing or unreadable file is a usage error too.
    public init(scenarioFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RaceSettingsError("--scenario: cannot read '\(path)'")
        }
        do { try self.init(scenario: data) } catch let e as RaceSettingsError {
            throw RaceSettingsError("--scenario \(path): " + e.message.replacingOccurrences(of: "scenario: ", with: ""))
        }
    }

    static var transportNames: String { RaceTransport.allCases.map(\.rawValue).joined(separator: ", ") }

    public static func parseTransports(_ names: [String], what: String) throws -> [RaceTransport] {
        var out: [RaceTransport] = []
        for n in names {
            guard let t = RaceTransport(rawValue: n), !out.contains(t) else {
                throw RaceSettingsError("\(what) must be a comma-separated list of \(transportNames) (got '\(names.joined(separator: ","))')")
            }
            out.append(t)
        }
        guard !out.isEmpty else { throw RaceSettingsError("\(what) must name at least one of \(transportNames)") }
        return out
    }

    /// Every value within its range; `url` well formed. Messages name the key.
    public func validate(prefix: String = "") throws {
        func check(_ ok: Bool, _ name: String, _ accepts: String) throws {
            if !ok { throw RaceSettingsError("\(prefix)\(name) must be \(accepts)") }
        }
        try check(Self.durationRange.contains(duration), "duration", "a number of seconds from 0.05 to 86400")
        try check(Self.rateRange.contains(rate), "rate", "a number from 0 to 100000 (events per second)")
        try check(Self.sizeRange.contains(size), "size", "an integer from 0 to 1048576")
        try check(Self.clientsRange.contains(clients), "clients", "an integer from 1 to 10000")
        try check(Self.pollIntervalRange.contains(pollInterval), "poll_interval", "a number of seconds from 0.01 to 3600")
        try check(!transports.isEmpty, "transports", "a list of \(Self.transportNames)")
        try check(Self.fallbackAfterRange.contains(fallbackAfter), "fallback_after", "a number of milliseconds from 0 to 600000")
        if let url { _ = try RaceEndpoint(url: url, prefix: prefix) }
        try check(!share || http == .http2, "share", "used with http 2 (one HTTP/2 connection for every transport)")
        try check(http == .http1_1 || !transports.contains(.auto), "http",
                  "1.1 with the auto transport (HTTP/2 races the four transports)")
    }

    /// The settings as the scenario JSON object (the `scenario` of `--format json`).
    public var scenarioObject: [(String, JSONValue)] {
        [("url", url.map { .string($0) } ?? .null),
         ("transports", .array(transports.map { .string($0.rawValue) })),
         ("duration", .number(duration)), ("rate", .number(rate)), ("size", .number(Double(size))),
         ("clients", .number(Double(clients))), ("poll_interval", .number(pollInterval)),
         ("format", .string(format.rawValue)),
         ("via", via.map { .string($0) } ?? .null), ("reconnect", .string(reconnect.rawValue)),
         ("fallback_after", .number(fallbackAfter)),
         ("http", .string(http.rawValue)), ("share", .bool(share)), ("headers", .string(headers.rawValue))]
    }
}


/// Where the server is: `http://HOST[:PORT][/...]` (the path is ignored).
public struct RaceEndpoint: Equatable {
    public var host: String
    public var port: Int
    /// The Host header value (brackets around an IPv6 literal, port when not 80).
    public var hostHeader: String
    /// 127.0.0.0/8, ::1 or localhost: the same machine, same clock.
    public var isSameHost: Bool

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
        let h = host.contains(":") ? "[\(host)]" : host
        hostHeader = port == 80 ? h : "\(h):\(port)"
        isSameHost = host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    public init(url: String, prefix: String = "") throws {
        func bad() -> RaceSettingsError {
            RaceSettingsError("\(prefix)url must be http://HOST[:PORT] (got '\(url)')")
        }
        var rest = Substring(url)
        if rest.hasPrefix("http://") { rest = rest.dropFirst(7) } else if rest.hasPrefix("ws://") { rest = rest.dropFirst(5) } else { throw bad() }
        if let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) { rest = rest[..<slash] }
        var host: Substring, port = 80
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw bad() }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let p = Int(after.dropFirst()), (1...65535).contains(p) else { throw bad() }
                port = p
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else { throw bad() }
            port = p
        } else {
            host = rest
        }
        guard !host.isEmpty, !host.contains("@") else { throw bad() }
        self.init(host: String(host), port: port)
    }
}
