// `wirelab lesson N` (PROTOCOL.md §4, §6): run a lesson. `wirelab lesson` alone lists them.
import WireLessons

enum LessonCommand {
    static let command = Command(
        name: "lesson",
        summary: "wirelab lesson — a short course in polling, long polling, SSE and WebSocket, measured live.",
        usage: "wirelab lesson [N] [--step] [--tables]",
        options: [
            Option(name: "step", kind: .flag, valueName: "", defaultValue: nil,
                   help: "pause between the parts (Enter to go on); ignored without a terminal"),
            Option(name: "tables", kind: .flag, valueName: "", defaultValue: nil,
                   help: "rerun the lesson (every lesson without N) and write Lessons/results/ and the README tables"),
        ],
        positionals: ["N"],
        discussion: """
        Each lesson prints its idea, shows one real exchange on the wire, predicts the numbers with a
        small model, measures them with `wirelab race`, and prints what to notice — computed from
        your measurements. The walkthroughs are Lessons/NN-slug/README.md.

        Examples:
          wirelab lesson            list the lessons
          wirelab lesson 3 --step   lesson 3, pausing between parts (for a classroom)
          make lesson-1             build in release mode and run lesson 1
        """)

    static func run(_ args: [String]) -> Int32 {
        let parsed: ParsedArguments
        switch command.parse(args) {
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
        for lesson in lessons {
            do {
                let results = try LessonRunner.run(lesson, options: options)
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
}
