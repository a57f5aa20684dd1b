// GET / : the classroom page; GET /classroom : the teacher view.
//
// The pages are plain files in Resources/ (HTML, CSS, JavaScript: no build step, no external
// URLs). The router sends only `/` and `/classroom` here (Conversation answers with these bytes), so each page is served as ONE
// self-contained HTML document: at first use we read the files once, replace every
// `<link rel="stylesheet" href="X.css">` and `<script src="X.js"></script>` by the file's text,
// and cache the bytes. One request per page load, no static-file route.
//
// Finding the files: SwiftPM copies Resources/ into a bundle directory next to the executable
// (`WireLab_WireServer.resources`). We do NOT use the generated `Bundle.module`: it calls
// fatalError when the bundle is missing (say, the binary was copied elsewhere). Instead we look
// next to /proc/self/exe and argv[0], and fall back to a small built-in page that says what is
// missing. The server never crashes for want of a page.
import Foundation
import WireCodec

enum ClassroomPage {
    // Built once, on first use (Swift runs a static let's initializer exactly once, thread-safely).
    static let classroomBytes: [UInt8] = Array(page("classroom.html").utf8)
    static let teacherBytes: [UInt8] = Array(page("teacher.html").utf8)

    /// The HTML file with its stylesheets and scripts inlined, or the fallback page.
    static func page(_ name: String) -> String {
        guard let dir = resourceDirectory(), let html = read(dir, name) else {
            return fallbackPage(missing: name)
        }
        return inline(html, from: dir)
    }

    // MARK: inlining

    /// Replaces `<link rel="stylesheet" href="F">` and `<script src="F"></script>` with the
    /// contents of F. A missing file leaves a comment, so the page still loads.
    static func inline(_ html: String, from dir: String) -> String {
        var out = html
        out = replaceTags(in: out, open: "<link rel=\"stylesheet\" href=\"", close: "\">") { file in
            "<style>/* \(file) */\n\(read(dir, file) ?? "/* \(file) not found */")</style>"
        }
        out = replaceTags(in: out, open: "<script src=\"", close: "\"></script>") { file in
            "<script>// \(file)\n\(read(dir, file) ?? "// \(file) not found")</script>"
        }
        return out
    }

    private static func replaceTags(in text: String, open: String, close: String,
                                    with replacement: (String) -> String) -> String {
        var out = ""
        var rest = Substring(text)
        while let start = rest.range(of: open), let end = rest[start.upperBound...].range(of: close) {
            out += rest[..<start.lowerBound]
            out += replacement(String(rest[start.upperBound..<end.lowerBound]))
            rest = rest[end.upperBound...]
        }
        out += rest
        return out
    }

    // MARK: finding the files

    static let bundleName = "WireLab_WireServer.resources"

    /// The first existing `<dir>/WireLab_WireServer.resources/Resources`, where `<dir>` is the
    /// executable's directory (from /proc/self/exe, then argv[0]).
    static func resourceDirectory() -> String? {
        var candidates: [String] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append((exe as NSString).deletingLastPathComponent)
        }
        if let arg0 = CommandLine.arguments.first {
            let path = (arg0 as NSString).resolvingSymlinksInPath
            candidates.append((path as NSString).deletingLastPathComponent)
        }
        for dir in candidates {
            let resources = dir + "/" + bundleName + "/Resources"
            if FileManager.default.fileExists(atPath: resources + "/classroom.html") { return resources }
        }
        return nil
    }

    private static func read(_ dir: String, _ file: String) -> String? {
        // Only plain names: the HTML names its own files, never a path.
        guard !file.contains("/"), !file.contains(".."),
              let data = FileManager.default.contents(atPath: dir + "/" + file) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    static func fallbackPage(missing name: String) -> String {
        """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>WireLab</title></head>
        <body style="font: 18px/1.5 system-ui, sans-serif; max-width: 40em; margin: 2em auto">
        <h1>WireLab</h1>
        <p>The classroom page's files were not found (looked for <code>\(bundleName)/Resources/\(name)</code>
        next to the <code>wirelab</code> executable). Run the binary from its build directory
        (<code>.build/debug/wirelab serve</code>), or copy the bundle directory along with it.</p>
        <p>The server works without it: /poll, /longpoll, /sse, /ws, /echo, /publish, /stats, /time, /control, /healthz.</p>
        </body></html>
        """
    }
}
