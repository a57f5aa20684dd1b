// wirelab: the command line. Argument parsing and subcommands only; the work is in the modules.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum FileOutput {
    static func stderr(_ line: String) {
        fputs(line + "\n", Glibc.stderr)
    }
}

func usageError(_ message: String) -> Int32 {
    FileOutput.stderr(message)
    return 2
}

let topHelp = """
wirelab — a lab for comparing how live data reaches a browser.

Usage: wirelab <command> [options]

Commands:
  serve      run the server: one event stream over poll, long poll, SSE and WebSocket
  race       run the transports side by side and measure latency, bytes and requests
  lesson N   run lesson N (wirelab lesson alone lists them)
  inspect    show the bytes of one exchange on the wire, annotated
  proxy      a network you can set: delay, jitter, bandwidth and middleboxes before a server

`wirelab <command> --help` tells more about each.
"""

let arguments = Array(CommandLine.arguments.dropFirst())
var status: Int32
switch arguments.first {
case "serve":
    status = ServeCommand.run(Array(arguments.dropFirst()))
case "lesson":
    status = LessonCommand.run(Array(arguments.dropFirst()))
case "inspect":
    status = InspectCommand.run(Array(arguments.dropFirst()))
case "race":
    status = RaceCommand.run(Array(arguments.dropFirst()))
case "proxy":
    status = ProxyCommand.run(Array(arguments.dropFirst()))
case "--help", "-h", "help", nil:
    print(topHelp)
    status = arguments.isEmpty ? 2 : 0
default:
    status = usageError("wirelab: unknown command '\(arguments[0])'; commands: serve, race, lesson, inspect, proxy (see wirelab --help)")
}
exit(status)
