// `wirelab inspect poll|longpoll|sse|ws [--url URL] [--wait S]` (PROTOCOL.md §4): the bytes of one
// exchange. Waits for an event at most --wait seconds, so a quiet server (--rate 0) gets a sentence,
// not a hang.
import WireLessons
import WireServer
import WireMeasure

enum InspectCommand {
    static let command = Command(
        name: "inspect",
        summary: "wirelab inspect — show the bytes one exchange puts on the wire, annotated.",
        usage: "wirelab inspect poll|longpoll|sse|ws [--url URL] [--wait 2]",
        options: [
            Option(name: "url", kind: .string, valueName: "URL", defaultValue: nil,
                   help: "a running WireLab server, e.g. http://127.0.0.1:8080 (default: start one here)"),
            Option(name: "wait", kind: .number(0.1...120), valueName: "S", defaultValue: "2",
                   help: "seconds to wait for an event before saying none came (a server started with --rate 0)"),
        ],
        positionals: ["TRANSPORT"],
        discussion: """
        For HTTP transports: the request line and each header with its byte count, the status line
        and headers, the body. For SSE: the chunk framing and each field of an event block. For
        WebSocket: the handshake with the Sec-WebSocket-Accept computation, then frames as hex with
        FIN, RSV, opcode, MASK, payload length (and which length form), masking key and payload, then
        a ping and the server's pong. If no event comes within --wait seconds (a quiet server), it
        says so and goes on; a long poll asks with timeout=--wait (whole seconds).

        Example:
          wirelab inspect ws
          wirelab inspect sse --url http://127.0.0.1:8080
          wirelab inspect ws --url http://127.0.0.1:8080 --wait 5   (a server started with --rate 0)
        """)

    static func run(_ args: [String]) -> Int32 {
        let parsed: ParsedArguments
        switch command.parse(args) {
        case .exit(let status): return status
        case .proceed(let p): parsed = p
        }
        let names = InspectTransport.allCases.map { $0.rawValue }.joined(separator: ", ")
        guard parsed.positionals.count == 1, let transport = InspectTransport(rawValue: parsed.positionals[0]) else {
            return usageError("wirelab inspect: TRANSPORT must be one of \(names)")
        }
        var host = "127.0.0.1", port = 0
        var server: Server?
        if let url = parsed.string("url") {
            guard let target = try? RaceEndpoint(url: url) else {
                return usageError("wirelab inspect: --url must be http://HOST[:PORT] (got '\(url)')")
            }
            host = target.host; port = target.port
        } else {
            var config = ServerConfig()
            config.port = 0
            config.rate = 2
            config.size = 16
            let s = Server(config: config)
            do { try s.start() } catch {
                FileOutput.stderr("wirelab inspect: cannot start a server: \(error)")
                return 1
            }
            server = s
            port = s.port
            s.feed.publish(topic: .tick, data: Feed.tickData(size: 16))
        }
        defer { server?.shutdown(grace: 0.2) }
        do {
            for line in try InspectSession.run(transport, host: host, port: port, wait: parsed.double("wait") ?? 2) { print(line) }
            return 0
        } catch {
            FileOutput.stderr("wirelab inspect: \(error)")
            return 1
        }
    }
}
