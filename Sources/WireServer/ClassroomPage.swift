// GET / : the classroom page; GET /classroom : the teacher view. Placeholders until the page lands.
import WireCodec

enum ClassroomPage {
    static func serve(_ request: HTTPRequest, on c: Connection) {
        let html = """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>WireLab</title></head>
        <body><h1>WireLab</h1><p>Endpoints: /poll, /longpoll, /sse, /ws, /echo, /publish, /stats, /time, /healthz.</p></body></html>
        """
        c.respond(to: request, status: 200, contentType: "text/html; charset=utf-8", body: Array(html.utf8), tag: .none)
    }

    static func serveTeacherView(_ request: HTTPRequest, on c: Connection) {
        serve(request, on: c)
    }
}
