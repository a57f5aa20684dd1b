// `wirelab lesson N` (PROTOCOL.md §4, §6): run a lesson. `wirelab lesson` alone lists them.
// `--predict [VALUE]`: the student's number before the run, compared after it (the question is
// Lessons/NN-slug/predict.json; see Sources/WireLessons/StudentPrediction.swift).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import WireLessons

enum LessonCommand {
    static let command = Command(
        name: "lesson",
        summary: "wirelab lesson — a short course in polling, long polling, SSE and WebSocket, measured live.",
        usage: "wirelab lesson [N] [--step] [--tables] [--predict [VALUE]]",
        options: [
            Option(name: "step", kind: .flag, valueName: "", defaultValue: nil,
                   help: "pause between the parts (Enter to go on); ignored without a terminal"),
            Option(name: "tables", kind: .flag, valueName: "", defaultValue: nil,
                   help: "rerun the lesson (every lesson without N) and write Lessons/results/ and the README tables"),
            Option(name: "predict", kind: .flag, valueName: "", defaultValue: nil,
                   help: "type your own number before the run (or give it: --predict 400) and see how far off it was, next to the model"),
        ],
        positionals: ["N"],
        discussion: """
        Each lesson prints its idea, shows one real exchange on the wire, predicts the numbers with a
        small model, measures them with `wirelab race`, and prints what to notice — computed from
        your measurements. The walkthroughs are Lessons/NN-slug/README.md.

        Examples:
          wirelab lesson                  list the lessons
          wirelab lesson 3 --step         lesson 3, pausing between parts (for a classroom)
          wirelab lesson 2 --predict      a question first (Lessons/NN-slug/predict.json); your
                                          number against the measurement and the model after
          wirelab lesson 2 --predict 20   the same, the number given up front (scripts, a class's median)
          make lesson-1                   build in release mode and run lesson 1
        """)

    static func run(_ args: [String]) -> Int32 {
        let predict: PredictArgument
        let rest: [String]
        switch splitPredict(args) {
        case .failure(let e): return usageError(e.message)
        case .success(let (p, r)): predict = p; rest = r
        }
        let parsed: ParsedArguments
        switch command.parse(rest) {
        case .exit(let status): return status
        case .proceed(let p): parsed = p
        }
        let numbers = LessonCatalog.all.map { String($0.number) }.joined(separator: ", ")
        var lessons = LessonCatalog.all
        if let n = parsed.positionals.first {
            guard let number = Int(n), let lesson = LessonCatalog.lesson(number) else {
                return usageError("wirelab lesson: N must be one of \(numbers) (got '\(n)')")
            }
            lessons = [lesson]
        } else if predict != .none {
            return usageError("wirelab lesson: --predict needs a lesson number N (wirelab lesson N --predict)")
        } else if !parsed.has("tables") {
            print("WireLab lessons (run one with `wirelab lesson N` or `make lesson-N`):\n")
            for l in LessonCatalog.all { print("  \(l.number)  \(l.title)") }
            print("\nThe walkthroughs are in Lessons/; `make tables` reruns them all and writes Lessons/results/.")
            return 0
        }
        var options = LessonOptions()
        options.step = parsed.has("step")
        let tables = parsed.has("tables")
        if tables { options.showWire = false; options.step = false }
        let stamp = LessonTables.stamp()
        if predict != .none && tables {
            return usageError("wirelab lesson: --predict and --tables do not go together")
        }
        for lesson in lessons {
            do {
                let asked = try predict == .none ? nil : ask(lesson, predict, options)
                let results = try LessonRunner.run(lesson, options: options)
                if let (text, guess, question) = asked { compare(text, guess, question, results, options) }
                if tables {
                    guard let dir = LessonFiles.directory() else { throw LessonError("cannot find Lessons/") }
                    try LessonTables.write(lesson, results, directory: dir, stamp: stamp)
                    print("wrote Lessons/results/\(lesson.folder).md (.csv, .json, charts) and its README table\n")
                }
            } catch {
                FileOutput.stderr("wirelab lesson \(lesson.number): \(error)")
                return 1
            }
        }
        return 0
    }

    enum PredictArgument: Equatable {
        case none, ask, value(Double)
    }

    /// Takes `--predict`, `--predict=VALUE` and `--predict VALUE` out of the arguments. A number
    /// after `--predict` is its VALUE when another argument is the lesson N (`wirelab lesson 2
    /// --predict 20`); alone it is N (`wirelab lesson --predict 2` asks).
    static func splitPredict(_ args: [String]) -> Result<(PredictArgument, [String]), PredictUsage> {
        var predict = PredictArgument.none
        var rest: [String] = []
        let positionals = args.filter { !$0.hasPrefix("-") || Double($0) != nil }.count
        var i = 0
        while i < args.count {
            let a = args[i]
            i += 1
            if a.hasPrefix("--predict=") {
                let text = String(a.dropFirst("--predict=".count))
                guard let v = Double(text), v.isFinite else { return .failure(PredictUsage("wirelab lesson: --predict must be a number (got '\(text)')")) }
                predict = .value(v)
            } else if a == "--predict" {
                predict = .ask
                if i < args.count, !args[i].hasPrefix("--") {
                    if let v = Double(args[i]), v.isFinite {
                        if positionals >= 2 { predict = .value(v); i += 1 }
                    } else if Int(args[i]) == nil {
                        return .failure(PredictUsage("wirelab lesson: --predict must be a number (got '\(args[i])')"))
                    }
                }
            } else {
                rest.append(a)
            }
        }
        return .success((predict, rest))
    }

    struct PredictUsage: Error {
        var message: String
        init(_ m: String) { message = m }
    }

    /// Before the run: the question, and the student's number (asked, or from the command line).
    static func ask(_ lesson: Lesson, _ predict: PredictArgument, _ options: LessonOptions) throws -> (String, Double?, PredictionQuestion)? {
        let q = try PredictionQuestion.load(for: lesson)
        let text = q.text(for: try LessonFiles.scenario(for: lesson))
        options.out("── Predict first ──")
        options.out(text)
        var guess: Double?
        switch predict {
        case .value(let v):
            guess = v
            options.out("Your prediction: \(PredictionPrompt.format(v, q.unit))")
        default:
            guess = PredictionPrompt.ask(text, unit: q.unit, isTerminal: isatty(0) != 0,
                                         readLine: { readLine() }, say: options.out)
        }
        options.out("")
        return (text, guess, q)
    }

    /// After the run: how far off the student and the model were.
    static func compare(_ text: String, _ guess: Double?, _ q: PredictionQuestion, _ results: LessonResults, _ options: LessonOptions) {
        options.out("")
        guard let m = q.measured(in: results) else {
            options.out("(the lesson's results hold no figure for this question: \(q.row), \(q.value))")
            return
        }
        for line in PredictionPrompt.report(question: text, unit: q.unit, guess: guess, measured: m.value,
                                            model: q.model(in: results), source: m.source) {
            options.out(line)
        }
    }
}
