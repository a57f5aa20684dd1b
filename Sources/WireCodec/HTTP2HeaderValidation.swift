// RFC 9113 §8.2 and §8.3, RFC 8441 §4: is a decoded header list a well-formed HTTP/2 request,
// response or trailer section? A malformed message is a stream error of type PROTOCOL_ERROR
// (§8.1.1): only that stream is reset.
//
// Request rules checked here:
//   - field names are lower case (§8.2.1) and contain no ':' except as the pseudo-header prefix;
//   - pseudo-header fields come before all regular fields, each at most once, and only the
//     request ones (:method :scheme :authority :path, plus :protocol under RFC 8441) (§8.3);
//   - no connection-specific fields (connection, keep-alive, proxy-connection,
//     transfer-encoding, upgrade); `te` only as "trailers" (§8.2.2);
//   - CONNECT (§8.5) has :authority and no :scheme or :path; extended CONNECT (RFC 8441 §4)
//     has :protocol, :scheme, :path and :authority and needs our SETTINGS_ENABLE_CONNECT_PROTOCOL;
//   - every other request has :method, :scheme and a non-empty :path (§8.3.1).

public enum HTTP2HeaderValidation {
    private static let connectionSpecific: Set<String> = ["connection", "keep-alive", "proxy-connection",
                                                          "transfer-encoding", "upgrade"]

    /// Checks a request's header list; `connectProtocolEnabled`: we sent SETTINGS_ENABLE_CONNECT_PROTOCOL = 1.
    public static func validateRequest(_ fields: [HPACKHeaderField], streamID id: UInt32,
                                       connectProtocolEnabled: Bool) throws(HTTP2Error) {
        var pseudo: [String: String] = [:]
        var sawRegular = false
        for field in fields {
            try checkName(field.name, id)
            if field.name.hasPrefix(":") {
                guard !sawRegular else { throw malformed(id, "pseudo-header \(field.name) after a regular field") }
                guard [":method", ":scheme", ":authority", ":path", ":protocol"].contains(field.name) else {
                    throw malformed(id, "pseudo-header \(field.name) not allowed in a request")
                }
                guard pseudo[field.name] == nil else { throw malformed(id, "pseudo-header \(field.name) twice") }
                pseudo[field.name] = field.value
            } else {
                sawRegular = true
                try checkRegular(field, id)
            }
        }
        guard let method = pseudo[":method"] else { throw malformed(id, "request without :method") }
        if let proto = pseudo[":protocol"] {
            // RFC 8441 §4: ":protocol" only once we allowed it, only with CONNECT, and then
            // ":scheme" and ":path" MUST be included.
            guard connectProtocolEnabled else { throw malformed(id, ":protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL") }
            guard method == "CONNECT" else { throw malformed(id, ":protocol \(proto) with :method \(method)") }
            guard pseudo[":scheme"] != nil, let path = pseudo[":path"], !path.isEmpty, pseudo[":authority"] != nil else {
                throw malformed(id, "extended CONNECT without :scheme, :path or :authority")
            }
        } else if method == "CONNECT" {
            // §8.5: "The :scheme and :path pseudo-header fields MUST be omitted" and
            // ":authority ... MUST" be present.
            guard pseudo[":authority"] != nil, pseudo[":scheme"] == nil, pseudo[":path"] == nil else {
                throw malformed(id, "CONNECT must carry :authority and no :scheme or :path")
            }
        } else {
            // §8.3.1: "All HTTP/2 requests MUST include exactly one valid value for the :method,
            // :scheme, and :path pseudo-header fields, unless they are CONNECT requests".
            guard pseudo[":scheme"] != nil, let path = pseudo[":path"], !path.isEmpty else {
                throw malformed(id, "request without :scheme or a non-empty :path")
            }
        }
    }

    /// A response: exactly one :status of three digits, first, and no other pseudo-header (§8.3.2).
    public static func validateResponse(_ fields: [HPACKHeaderField], streamID id: UInt32) throws(HTTP2Error) {
        var status: String?
        var sawRegular = false
        for field in fields {
            try checkName(field.name, id)
            if field.name.hasPrefix(":") {
                guard field.name == ":status", status == nil, !sawRegular else {
                    throw malformed(id, "unexpected pseudo-header \(field.name) in a response")
                }
                status = field.value
            } else {
                sawRegular = true
                try checkRegular(field, id)
            }
        }
        guard let status, status.utf8.count == 3, status.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw malformed(id, "response without a valid :status")
        }
    }

    /// Trailers: "Trailers MUST NOT include pseudo-header fields" (§8.1).
    public static func validateTrailers(_ fields: [HPACKHeaderField], streamID id: UInt32) throws(HTTP2Error) {
        for field in fields {
            try checkName(field.name, id)
            guard !field.name.hasPrefix(":") else { throw malformed(id, "pseudo-header \(field.name) in trailers") }
            try checkRegular(field, id)
        }
    }

    private static func checkName(_ name: String, _ id: UInt32) throws(HTTP2Error) {
        // §8.2.1: "A field name MUST NOT contain characters in the ranges 0x00-0x20, 0x41-0x5a,
        // or 0x7f-0xff (all ranges inclusive)" and the only ':' is a pseudo-header's first.
        guard !name.isEmpty else { throw malformed(id, "empty field name") }
        for (i, byte) in name.utf8.enumerated() {
            if byte <= 0x20 || (byte >= 0x41 && byte <= 0x5A) || byte >= 0x7F || (byte == 0x3A && i > 0) {
                throw malformed(id, "invalid character in field name \(name)")
            }
        }
    }

    private static func checkRegular(_ field: HPACKHeaderField, _ id: UInt32) throws(HTTP2Error) {
        // §8.2.2: connection-specific fields MUST NOT appear; TE only with "trailers".
        if connectionSpecific.contains(field.name) { throw malformed(id, "connection-specific field \(field.name)") }
        if field.name == "te" && field.value != "trailers" { throw malformed(id, "te: \(field.value)") }
        // §8.2.1: a value MUST NOT contain NUL, CR or LF, nor start or end with SP or HTAB.
        let v = field.value.utf8
        if v.contains(where: { $0 == 0 || $0 == 0x0A || $0 == 0x0D }) { throw malformed(id, "NUL, CR or LF in \(field.name)") }
        if let f = v.first, let l = v.last, f == 0x20 || f == 0x09 || l == 0x20 || l == 0x09 {
            throw malformed(id, "whitespace around the value of \(field.name)")
        }
    }

    private static func malformed(_ id: UInt32, _ reason: String) -> HTTP2Error {
        .stream(id, .protocolError, "malformed message: " + reason)
    }
}
