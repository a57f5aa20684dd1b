// What the byte check means through `race --via` (PROTOCOL.md §5, §8).
//
// race counts bytes at the clients' own sockets. Through a proxy those sockets end at the
// proxy, so the counts are the proxy's downstream side; the server's /stats counts the
// upstream side. The two are equal, to the byte, exactly when the proxy forwarded every byte
// unchanged and lost none before the connections closed:
//
//   delay, jitter, bandwidth, stall-every   hold bytes, forward them all:  compared, must agree
//   strip-upgrade                           rewrites request heads:       differ by design
//   cut-every, kill-ws-after, idle-timeout  close with bytes in flight:   differ by design
//   buffer                                  may hold a stream's tail:     differ by design
//
// So race always compares; it reports a difference as a fault only for the forwarding-only
// flags, and otherwise says why the numbers differ. Either way the counts it prints are what
// crossed the clients' sockets: what the clients paid.
enum ProxyBytes {
    /// Flags after which client-side and server-side counts may differ.
    static let rewritingFlags = ["--strip-upgrade", "--cut-every", "--kill-ws-after", "--idle-timeout", "--buffer"]

    static func judge(_ check: ServerCheck, flags: String) -> ServerCheck {
        let given = ChildProxy.split(flags).map { $0.split(separator: "=").first.map(String.init) ?? $0 }
        let culprits = rewritingFlags.filter { given.contains($0) }
        var c = check
        if check.agrees {
            c.note = "through the proxy, which forwarded every byte unchanged"
        } else if culprits.isEmpty {
            c.note = "through the proxy, whose flags forward every byte: a real difference"
        } else {
            c.expected = false
            c.note = "counts are what crossed the clients' sockets (the proxy's downstream side); "
                + "the server's differ because \(culprits.joined(separator: ", ")) rewrites or drops bytes in flight"
        }
        return c
    }
}
