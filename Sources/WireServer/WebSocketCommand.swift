// What a client may say on /ws (PROTOCOL.md §2):
//   {"type":"publish","data":"..."}   publishes a chat event (PROTOCOL.md §9: only from a
//                                     trusted Origin, like POST /publish)
//   {"type":"since","since":N}        replays retained events after N
// Anything else gets {"type":"error","error":"..."} and the connection stays open.
import Foundation

enum WebSocketCommand {
    private struct Envelope: Decodable { var type: String }
    private struct Publish: Decodable { var data: String }
    private struct Since: Decodable { var since: Int }

    // LESSON: talk-back-ws
    static func handle(_ payload: [UInt8], _ session: WebSocketSession, on c: Conversation) {
        let data = Data(payload)
        let decoder = JSONDecoder()
        guard let envelope = try? decoder.decode(Envelope.self, from: data) else {
            return c.sendCommandError("a command is a JSON object with a string \"type\"", session)
        }
        switch envelope.type {
        case "publish":
            guard session.mayPublish else {
                return c.sendCommandError("publish not allowed from this page's Origin", session)
            }
            guard let publish = try? decoder.decode(Publish.self, from: data) else {
                return c.sendCommandError("publish needs a string \"data\"", session)
            }
            c.feed.publish(topic: .chat, data: publish.data)
        case "since":
            guard let since = try? decoder.decode(Since.self, from: data), since.since >= 0 else {
                return c.sendCommandError("since needs a non-negative integer \"since\"", session)
            }
            c.replayWebSocket(since: since.since, session)
        default:
            c.sendCommandError("unknown command type \"\(envelope.type)\"; known: publish, since", session)
        }
    }
}
