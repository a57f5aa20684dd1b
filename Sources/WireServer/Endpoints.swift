// The small endpoints: /stats, /publish, /control (PROTOCOL.md §2).
import Foundation
import WireCodec

enum Endpoints {
    static func stats(_ request: HTTPRequest, on c: Connection) {
        let server = c.worker.server
        if let name = request.query["client"] {
            guard Router.isValidClientName(name) else {
                return c.respondError(to: request, status: 400, "client must be 1-64 characters of A-Z a-z 0-9 _ . -")
            }
            return c.respondJSON(to: request, server.stats.clientJSON(name))
        }
        c.respondJSON(to: request, server.stats.json(eventsPublished: server.feed.latestID))
    }

    /// POST /publish: the body is the message, as text/plain or as JSON {"data":"..."}.
    // LESSON: talk-back-post
    static func publish(_ request: HTTPRequest, on c: Connection) {
        let body = request.body
        guard UTF8Validator.isValid(body) else {
            return c.respondError(to: request, status: 400, "body is not valid UTF-8")
        }
        let contentType = (request.headers["Content-Type"] ?? "text/plain").lowercased()
        let message: String
        if contentType.hasPrefix("application/json") {
            struct Message: Decodable { var data: String }
            guard let m = try? JSONDecoder().decode(Message.self, from: Data(body)) else {
                return c.respondError(to: request, status: 400, "JSON body must be {\"data\":\"...\"} with a string data")
            }
            message = m.data
        } else {
            message = String(decoding: body, as: UTF8.self)
        }
        let event = c.worker.feed.publish(topic: .chat, data: message)
        c.respondJSON(to: request, "{\"id\":\(event.id)}")
    }

    /// POST /control {"rate":R,"size":B}: loopback callers, or the bearer token `serve` printed.
    static func control(_ request: HTTPRequest, on c: Connection) {
        let server = c.worker.server
        let token = request.headers["Authorization"]?.trimmingSpacesString()
        guard (c.isLoopback && server.config.trustLoopback) || token == "Bearer \(server.controlToken)" else {
            return c.respondError(to: request, status: 403, "control needs a loopback caller or Authorization: Bearer <token printed by serve>")
        }
        struct Control: Decodable { var rate: Double?; var size: Int? }
        guard let control = try? JSONDecoder().decode(Control.self, from: Data(request.body)),
              control.rate != nil || control.size != nil else {
            return c.respondError(to: request, status: 400, "body must be JSON {\"rate\":R,\"size\":B} with at least one key")
        }
        if let r = control.rate, !(r >= 0 && r <= 100_000 && r.isFinite) {
            return c.respondError(to: request, status: 400, "rate must be a number from 0 to 100000 (events per second)")
        }
        if let s = control.size, !(0...1_048_576).contains(s) {
            return c.respondError(to: request, status: 400, "size must be an integer from 0 to 1048576")
        }
        server.control(rate: control.rate, size: control.size)
        c.respondJSON(to: request, "{\"rate\":\(JSON.number(server.feed.rate)),\"size\":\(server.feed.size)}")
    }
}
