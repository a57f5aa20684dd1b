// The small endpoints: /stats, /publish, /control (PROTOCOL.md §2), as steps of the conversation.
import Foundation
import WireCodec

extension Conversation {
    /// Every loop's counters arrived (`Action.gatherStats`): answer the `/stats` request.
    func statsGathered(_ totals: StatsTotals, uptime: Double) {
        if case .http2(let h2) = state { return h2.statsGathered(totals, uptime: uptime) }
        guard case .awaitingStats(let request, let question) = state else { return }
        backToHTTP()
        respondJSON(to: request, statsBody(totals, uptime: uptime, question))
    }

    func statsBody(_ totals: StatsTotals, uptime: Double, _ question: StatsQuestion) -> String {
        switch question {
        case .all: return totals.json(uptime: uptime, eventsPublished: feed.latestID)
        case .client(let name): return totals.clientJSON(name)
        case .open: return totals.openJSON()
        }
    }

    /// POST /publish: the body is the message, as text/plain or as JSON {"data":"..."}.
    // LESSON: talk-back-post
    func publish(_ request: HTTPRequest) {
        let (status, body) = publishAnswer(request)
        respond(to: request, status: status, contentType: "application/json", body: body)
    }

    /// The answer to POST /publish (status, JSON body), for HTTP/1.1 and HTTP/2 alike.
    func publishAnswer(_ request: HTTPRequest) -> (Int, [UInt8]) {
        let body = request.body
        guard UTF8Validator.isValid(body) else {
            return (400, JSON.errorBody("body is not valid UTF-8"))
        }
        let contentType = (request.headers["Content-Type"] ?? "text/plain").lowercased()
        let message: String
        if contentType.hasPrefix("application/json") {
            struct Message: Decodable { var data: String }
            guard let m = try? JSONDecoder().decode(Message.self, from: Data(body)) else {
                return (400, JSON.errorBody("JSON body must be {\"data\":\"...\"} with a string data"))
            }
            message = m.data
        } else {
            message = String(decoding: body, as: UTF8.self)
        }
        let event = feed.publish(topic: .chat, data: message)
        return (200, Array("{\"id\":\(event.id)}".utf8))
    }

    /// POST /control {"rate":R,"size":B}: loopback callers, or the bearer token `serve` printed.
    func control(_ request: HTTPRequest) {
        let (status, body) = controlAnswer(request)
        respond(to: request, status: status, contentType: "application/json", body: body)
    }

    /// The answer to POST /control (status, JSON body), for HTTP/1.1 and HTTP/2 alike.
    func controlAnswer(_ request: HTTPRequest) -> (Int, [UInt8]) {
        let token = request.headers["Authorization"]?.trimmingSpacesString()
        guard (isLoopback && config.trustLoopback) || token == "Bearer \(context.controlToken)" else {
            return (403, JSON.errorBody("control needs a loopback caller or Authorization: Bearer <token printed by serve>"))
        }
        struct Control: Decodable { var rate: Double?; var size: Int? }
        guard let control = try? JSONDecoder().decode(Control.self, from: Data(request.body)),
              control.rate != nil || control.size != nil else {
            return (400, JSON.errorBody("body must be JSON {\"rate\":R,\"size\":B} with at least one key"))
        }
        if let r = control.rate, !(r >= 0 && r <= 100_000 && r.isFinite) {
            return (400, JSON.errorBody("rate must be a number from 0 to 100000 (events per second)"))
        }
        if let s = control.size, !(0...1_048_576).contains(s) {
            return (400, JSON.errorBody("size must be an integer from 0 to 1048576"))
        }
        context.control(control.rate, control.size)
        return (200, Array("{\"rate\":\(JSON.number(feed.rate)),\"size\":\(feed.size)}".utf8))
    }
}

extension String {
    func trimmingSpacesString() -> String { String(Substring(self).trimmingSpaces()) }
}
