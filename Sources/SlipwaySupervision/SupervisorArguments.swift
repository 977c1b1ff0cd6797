/// The command line of `slipway-supervisor`, read strictly and written back the same way:
///
/// ```
/// slipway-supervisor --instance ID --app APP --state DIR --log-max-bytes N --log-keep N
///                    --stop-signal N --grace-ms N [--workdir DIR] -- PROGRAM ARGV0 [ARG...]
/// ```
///
/// Every option before `--` takes one value and appears once; only `--workdir` may be left out. `PROGRAM` is the
/// path of the executable and `ARGV0 ARG...` the argument vector it receives.
public struct SupervisorArguments: Sendable, Equatable {
    /// The instance.
    public var instance: String
    /// Its app.
    public var app: String
    /// The state directory, holding its logs and records.
    public var stateDirectory: String
    /// The size at which a log file rotates.
    public var logMaxBytes: Int
    /// How many rotated log files are kept.
    public var logKeep: Int
    /// The signal that asks the instance to stop.
    public var stopSignal: Int32
    /// How long it has after that signal before it is killed, in milliseconds.
    public var graceMilliseconds: Int64
    /// Where it starts; nil for the supervisor's own working directory.
    public var workingDirectory: String?
    /// The executable's path.
    public var program: String
    /// The argument vector, `argv[0]` first.
    public var arguments: [String]

    /// A command line.
    public init(
        instance: String,
        app: String,
        stateDirectory: String,
        logMaxBytes: Int,
        logKeep: Int,
        stopSignal: Int32,
        graceMilliseconds: Int64,
        workingDirectory: String?,
        program: String,
        arguments: [String]
    ) {
        self.instance = instance
        self.app = app
        self.stateDirectory = stateDirectory
        self.logMaxBytes = logMaxBytes
        self.logKeep = logKeep
        self.stopSignal = stopSignal
        self.graceMilliseconds = graceMilliseconds
        self.workingDirectory = workingDirectory
        self.program = program
        self.arguments = arguments
    }

    /// The usage text.
    public static let usage = """
        usage: slipway-supervisor --instance ID --app APP --state DIR --log-max-bytes N --log-keep N
                                  --stop-signal N --grace-ms N [--workdir DIR] -- PROGRAM ARGV0 [ARG...]
        """

    /// Why a command line was refused.
    public struct UsageError: Error, Sendable, Equatable, CustomStringConvertible {
        /// What is wrong with it.
        public var description: String

        /// An error.
        public init(_ description: String) {
            self.description = description
        }
    }

    /// Reads the arguments after the program name.
    public init(parsing words: [String]) throws(UsageError) {
        var values: [String: String] = [:]
        let known: Set = [
            "--instance", "--app", "--state", "--log-max-bytes", "--log-keep", "--stop-signal", "--grace-ms",
            "--workdir",
        ]
        var index = 0
        while index < words.count, words[index] != "--" {
            let option = words[index]
            guard known.contains(option) else { throw UsageError("unknown option \"\(option)\"") }
            guard values[option] == nil else { throw UsageError("\(option) given twice") }
            guard index + 1 < words.count, words[index + 1] != "--", !known.contains(words[index + 1]) else {
                throw UsageError("\(option) needs a value")
            }
            values[option] = words[index + 1]
            index += 2
        }
        guard index < words.count else { throw UsageError("missing \"--\" before the program") }
        let command = Array(words[(index + 1)...])
        guard command.count >= 2 else { throw UsageError("after \"--\": the program's path, then its argv[0]") }

        func required(_ option: String) throws(UsageError) -> String {
            guard let value = values[option] else { throw UsageError("missing \(option)") }
            guard !value.isEmpty else { throw UsageError("\(option) is empty") }
            return value
        }
        func number(_ option: String, in range: ClosedRange<Int64>) throws(UsageError) -> Int64 {
            let text = try required(option)
            guard let value = Int64(text), range.contains(value) else {
                throw UsageError("\(option) must be a whole number in \(range.lowerBound)...\(range.upperBound)")
            }
            return value
        }
        func name(_ option: String) throws(UsageError) -> String {
            let value = try required(option)
            // It names files: no separators, no way out of the state directory.
            guard !value.contains("/"), value != ".", value != ".." else {
                throw UsageError("\(option) must not contain \"/\"")
            }
            return value
        }

        let workingDirectory = values["--workdir"]
        if let workingDirectory, workingDirectory.isEmpty { throw UsageError("--workdir is empty") }
        self.init(
            instance: try name("--instance"),
            app: try name("--app"),
            stateDirectory: try required("--state"),
            logMaxBytes: Int(try number("--log-max-bytes", in: 1...(1 << 40))),
            logKeep: Int(try number("--log-keep", in: 0...1000)),
            stopSignal: Int32(try number("--stop-signal", in: 1...64)),
            graceMilliseconds: try number("--grace-ms", in: 0...(1 << 40)),
            workingDirectory: workingDirectory,
            program: command[0],
            arguments: Array(command.dropFirst())
        )
        guard !program.isEmpty else { throw UsageError("the program's path is empty") }
    }

    /// The arguments after the program name, as ``init(parsing:)`` reads them.
    public var words: [String] {
        var words = [
            "--instance", instance, "--app", app, "--state", stateDirectory,
            "--log-max-bytes", String(logMaxBytes), "--log-keep", String(logKeep),
            "--stop-signal", String(stopSignal), "--grace-ms", String(graceMilliseconds),
        ]
        if let workingDirectory { words += ["--workdir", workingDirectory] }
        return words + ["--"] + [program] + arguments
    }
}
