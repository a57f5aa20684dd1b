// The small endpoints: /stats, /publish, /control (PROTOCOL.md §2), as steps of the conversation.
import Foundation
import WireCodec

extension Conversation {
    /// Every loop's counters arrived (`Action.gatherStats`): answer the `/stats` request.
    func statsGathered(_ totals: StatsTotals, uptime: Double) {
        guard case .awaitingStats(let request, let question) = state else { return }
        backToHTTP()
        switch question {
        case .all: respondJSON(to: request, totals.json(uptime: uptime, eventsPublished: feed.latestID))
        case .client(let name): respondJSON(to: request, totals.clientJSON(name))
        case .open: respondJSON(to: request, totals.openJSON())
        }
    }

    /// POST /publish: the body is the message, as text/plain or as JSON {"data":"..."}.
    // LESSON: talk-back-post
    func publish(_ request: HTTPRequest) {
        let body = request.body
        guard UTF8Validator.isValid(body) else {
            return respondError(to: request, status: 400, "body is not valid UTF-8")
        }
        let contentType = (request.headers["Content-Type"] ?? "text/plain").lowercased()
        let message: String
        if contentType.hasPrefix("application/json") {
            struct Message: Decodable { var data: String }
            guard let m = try? JSONDecoder().decode(Message.self, from: Data(body)) else {
                return respondError(to: request, status: 400, "JSON body must be {\"data\":\"...\"} with a string data")
            }
            message = m.data
        } else {
            message = String(decoding: body, as: UTF8.self)
        }
        let event = feed.publish(topic: .chat, data: message)
        respondJSON(to: request, "{\"id\":\(event.id)}")
    }

    /// POST /control {"rate":R,"size":B}: loopback callers, or the bearer token `serve` printed.
    func control(_ request: HTTPRequest) {
        let token = request.headers["Authorization"]?.trimmingSpacesString()
        guard (isLoopback && config.trustLoopback) || token == "Bearer \(context.controlToken)" else {
            return respondError(to: request, status: 403, "control needs a loopback caller or Authorization: Bearer <token printed by serve>")
        }
        struct Control: Decodable { var rate: Double?; var size: Int? }
        guard let control = try? JSONDecoder().decode(Control.self, from: Data(request.body)),
              control.rate != nil || control.size != nil else {
            return respondError(to: request, status: 400, "body must be JSON {\"rate\":R,\"size\":B} with at least one key")
        }
        if let r = control.rate, !(r >= 0 && r <= 100_000 && r.isFinite) {
            return respondError(to: request, status: 400, "rate must be a number from 0 to 100000 (events per second)")
        }
        if let s = control.size, !(0...1_048_576).contains(s) {
            return respondError(to: request, status: 400, "size must be an integer from 0 to 1048576")
        }
        context.control(control.rate, control.size)
        respondJSON(to: request, "{\"rate\":\(JSON.number(feed.rate)),\"size\":\(feed.size)}")
    }
}

extension String {
    func trimmingSpacesString() -> String { String(Substring(self).trimmingSpaces()) }
}
