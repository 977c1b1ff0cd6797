/// What a supervisor records once its instance runs (file `<id>.supervisor`):
///
/// ```
/// format=1
/// instance=shop-1
/// app=shop
/// supervisor-pid=4100
/// pid=4101
/// started-ms=1767225600000
/// stop-signal=15
/// grace-ms=10000
/// ```
public struct SupervisorRecord: Sendable, Equatable {
    /// The instance.
    public var instance: String
    /// Its app.
    public var app: String
    /// The supervisor's process id.
    public var supervisorPid: Int32
    /// The instance's process id (also its process group and session).
    public var pid: Int32
    /// When it started, in milliseconds since the Unix epoch.
    public var startedAtMilliseconds: Int64
    /// The signal that asks it to stop.
    public var stopSignal: Int32
    /// How long it has after that signal before it is killed, in milliseconds.
    public var graceMilliseconds: Int64

    /// A record.
    public init(
        instance: String,
        app: String,
        supervisorPid: Int32,
        pid: Int32,
        startedAtMilliseconds: Int64,
        stopSignal: Int32,
        graceMilliseconds: Int64
    ) {
        self.instance = instance
        self.app = app
        self.supervisorPid = supervisorPid
        self.pid = pid
        self.startedAtMilliseconds = startedAtMilliseconds
        self.stopSignal = stopSignal
        self.graceMilliseconds = graceMilliseconds
    }

    /// Reads the text form; nil when it is not a complete record of this format.
    public init?(text: String) {
        let record = RecordText(parsing: text)
        guard record.value("format") == "1",
            let instance = record.value("instance"),
            let app = record.value("app"),
            let supervisorPid = record.value("supervisor-pid").flatMap({ Int32($0) }),
            let pid = record.value("pid").flatMap({ Int32($0) }),
            let started = record.value("started-ms").flatMap({ Int64($0) }),
            let stopSignal = record.value("stop-signal").flatMap({ Int32($0) }),
            let grace = record.value("grace-ms").flatMap({ Int64($0) })
        else { return nil }
        self.init(
            instance: instance,
            app: app,
            supervisorPid: supervisorPid,
            pid: pid,
            startedAtMilliseconds: started,
            stopSignal: stopSignal,
            graceMilliseconds: grace
        )
    }

    /// Reads the record at `path`; nil when there is none (or it is damaged).
    public init?(contentsOf path: String) {
        guard let text = Files.read(path) else { return nil }
        self.init(text: text)
    }

    /// The text form.
    public var text: String {
        var record = RecordText()
        record.append("format", "1")
        record.append("instance", instance)
        record.append("app", app)
        record.append("supervisor-pid", String(supervisorPid))
        record.append("pid", String(pid))
        record.append("started-ms", String(startedAtMilliseconds))
        record.append("stop-signal", String(stopSignal))
        record.append("grace-ms", String(graceMilliseconds))
        return record.text
    }
}

/// How an instance ended, as its supervisor records it (file `<id>.exit`):
///
/// ```
/// format=1
/// instance=shop-1
/// status=exited 3
/// ran-ms=1520
/// stderr=config missing: DATABASE_URL
/// ```
///
/// `status` is `exited N`, `signaled N`, or `not-started` with the reason in `reason`. `stderr` repeats for the last
/// lines of standard error (at most ``ExitRecord/tailLines``), oldest first.
public struct ExitRecord: Sendable, Equatable {
    /// How it ended.
    public enum Ending: Sendable, Equatable {
        /// It exited with this status code.
        case exited(Int32)
        /// A signal ended it.
        case signaled(Int32)
        /// The program could not be started, for this reason.
        case notStarted(String)

        /// The ending a `waitpid` status describes; nil for a stopped or continued process.
        public init?(waitStatus status: Int32) {
            let signal = status & 0x7f
            if signal == 0 {
                self = .exited((status >> 8) & 0xff)
            } else if signal != 0x7f {
                self = .signaled(signal)
            } else {
                return nil
            }
        }
    }

    /// How many lines of standard error a record keeps.
    public static let tailLines = 8

    /// The instance.
    public var instance: String
    /// How it ended.
    public var ending: Ending
    /// How long it ran, in milliseconds.
    public var ranForMilliseconds: Int64
    /// The last lines it wrote to standard error, oldest first.
    public var stderrTail: [String]

    /// A record.
    public init(instance: String, ending: Ending, ranForMilliseconds: Int64, stderrTail: [String]) {
        self.instance = instance
        self.ending = ending
        self.ranForMilliseconds = ranForMilliseconds
        self.stderrTail = stderrTail
    }

    /// Reads the text form; nil when it is not a complete record of this format.
    public init?(text: String) {
        let record = RecordText(parsing: text)
        guard record.value("format") == "1",
            let instance = record.value("instance"),
            let status = record.value("status"),
            let ranFor = record.value("ran-ms").flatMap({ Int64($0) })
        else { return nil }
        let words = status.split(separator: " ")
        let ending: Ending
        switch (words.first, words.count == 2 ? Int32(words[1]) : nil) {
        case ("exited", let code?): ending = .exited(code)
        case ("signaled", let signal?): ending = .signaled(signal)
        case ("not-started", nil) where words.count == 1: ending = .notStarted(record.value("reason") ?? "")
        default: return nil
        }
        self.init(instance: instance, ending: ending, ranForMilliseconds: ranFor, stderrTail: record.values("stderr"))
    }

    /// Reads the record at `path`; nil when there is none (or it is damaged).
    public init?(contentsOf path: String) {
        guard let text = Files.read(path) else { return nil }
        self.init(text: text)
    }

    /// The text form.
    public var text: String {
        var record = RecordText()
        record.append("format", "1")
        record.append("instance", instance)
        switch ending {
        case .exited(let code): record.append("status", "exited \(code)")
        case .signaled(let signal): record.append("status", "signaled \(signal)")
        case .notStarted(let reason):
            record.append("status", "not-started")
            record.append("reason", reason)
        }
        record.append("ran-ms", String(ranForMilliseconds))
        for line in stderrTail { record.append("stderr", line) }
        return record.text
    }
}
