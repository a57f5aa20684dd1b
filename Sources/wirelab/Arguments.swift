// Command-line parsing, ours (no package): each subcommand declares its options once; the same
// declaration drives parsing, validation and `--help`.
//
// Rules (PROTOCOL.md §4): a usage error prints ONE line naming the flag and what it accepts, and
// exits 2. `--flag value` and `--flag=value` both work.

struct UsageError: Error {
    var message: String
}

struct Option {
    enum Kind {
        case string
        case integer(ClosedRange<Int>)
        case number(ClosedRange<Double>)   // fractional allowed
        case choice([String])
        case list([String])                 // comma-separated subset of these
        case repeated                       // may be given many times
        case flag                           // no value
    }
    var name: String            // without the leading "--"
    var kind: Kind
    var valueName: String
    var defaultValue: String?
    var help: String

    /// What the option accepts, for errors and help.
    var accepts: String {
        switch kind {
        case .string, .repeated: return valueName
        case .integer(let r):
            return r.upperBound == Int.max ? "an integer ≥ \(r.lowerBound)" : "an integer from \(r.lowerBound) to \(r.upperBound)"
        case .number(let r):
            return r.upperBound == .infinity ? "a number ≥ \(fmt(r.lowerBound))" : "a number from \(fmt(r.lowerBound)) to \(fmt(r.upperBound))"
        case .choice(let c): return "one of " + c.joined(separator: ", ")
        case .list(let c): return "a comma-separated list of " + c.joined(separator: ", ")
        case .flag: return "no value"
        }
    }
    private func fmt(_ d: Double) -> String { d == d.rounded() ? String(Int(d)) : String(d) }
}

struct Command {
    var name: String
    var summary: String
    var usage: String
    var options: [Option]
    var positionals: [String] = []       // names, for help
    var discussion: String = ""

    var helpText: String {
        var out = "\(summary)\n\nUsage: \(usage)\n"
        if !options.isEmpty {
            out += "\nOptions:\n"
            for o in options {
                var left = "  --\(o.name)"
                if case .flag = o.kind {} else { left += " \(o.valueName)" }
                let pad = max(1, 30 - left.count)
                var line = left + String(repeating: " ", count: pad) + o.help
                if let d = o.defaultValue { line += " (default: \(d))" }
                out += line + "\n"
            }
            out += "  --help" + String(repeating: " ", count: 30 - "  --help".count) + "show this help\n"
        }
        if !discussion.isEmpty { out += "\n" + discussion + "\n" }
        return out
    }
}

/// The parsed values: option name -> values (strings, validated), plus positionals.
struct ParsedArguments {
    var values: [String: [String]] = [:]
    var positionals: [String] = []
    var helpRequested = false

    func string(_ name: String) -> String? { values[name]?.last }
    func all(_ name: String) -> [String] { values[name] ?? [] }
    func has(_ name: String) -> Bool { values[name] != nil }
    func int(_ name: String) -> Int? { string(name).flatMap { Int($0) } }
    func double(_ name: String) -> Double? { string(name).flatMap { Double($0) } }
}

/// What a subcommand does after parsing: go on with the arguments, or exit now (after printing
/// its help, or one line for a usage error).
enum ParseOutcome {
    case proceed(ParsedArguments)
    case exit(Int32)
}

extension Command {
    /// Parses `args` for this command. `--help` prints the help (exit 0); a usage error prints
    /// its one line on stderr (exit 2), as PROTOCOL.md §4 asks of every subcommand.
    func parse(_ args: [String]) -> ParseOutcome {
        do {
            let parsed = try ArgumentParser.parse(args, for: self)
            if parsed.helpRequested {
                print(helpText)
                return .exit(0)
            }
            return .proceed(parsed)
        } catch let error as UsageError {
            return .exit(usageError(error.message))
        } catch {
            return .exit(usageError("wirelab \(name): \(error)"))
        }
    }
}

enum ArgumentParser {
    static func parse(_ args: [String], for command: Command) throws -> ParsedArguments {
        var result = ParsedArguments()
        var i = 0
        while i < args.count {
            let arg = args[i]
            i += 1
            if arg == "--help" || arg == "-h" { result.helpRequested = true; continue }
            guard arg.hasPrefix("--") else {
                if arg.hasPrefix("-") && arg.count > 1 && Double(arg) == nil {
                    throw UsageError(message: "wirelab \(command.name): unknown option '\(arg)' (see wirelab \(command.name) --help)")
                }
                result.positionals.append(arg)
                continue
            }
            var name = String(arg.dropFirst(2))
            var inlineValue: String?
            if let eq = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            guard let option = command.options.first(where: { $0.name == name }) else {
                throw UsageError(message: "wirelab \(command.name): unknown option '--\(name)' (see wirelab \(command.name) --help)")
            }
            if case .flag = option.kind {
                result.values[name, default: []].append("true")
                continue
            }
            let value: String
            if let v = inlineValue {
                value = v
            } else if i < args.count {
                value = args[i]
                i += 1
            } else {
                throw UsageError(message: "wirelab \(command.name): --\(name) needs a value: \(option.accepts)")
            }
            try validate(value, option, command)
            result.values[name, default: []].append(value)
        }
        if result.positionals.count > command.positionals.count && !result.helpRequested {
            let extra = result.positionals[command.positionals.count]
            throw UsageError(message: "wirelab \(command.name): unexpected argument '\(extra)' (see wirelab \(command.name) --help)")
        }
        return result
    }

    private static func validate(_ value: String, _ o: Option, _ command: Command) throws {
        func fail() -> UsageError {
            UsageError(message: "wirelab \(command.name): --\(o.name) must be \(o.accepts) (got '\(value)')")
        }
        switch o.kind {
        case .string, .repeated:
            if value.isEmpty { throw fail() }
        case .integer(let range):
            guard let n = Int(value), range.contains(n) else { throw fail() }
        case .number(let range):
            guard let d = Double(value), d.isFinite, range.contains(d) else { throw fail() }
        case .choice(let choices):
            guard choices.contains(value) else { throw fail() }
        case .list(let choices):
            let items = value.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard !items.isEmpty, items.allSatisfy({ choices.contains($0) }), Set(items).count == items.count else { throw fail() }
        case .flag:
            break
        }
    }
}
