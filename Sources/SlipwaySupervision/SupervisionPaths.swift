/// Where the files of one instance live under a state directory.
///
/// Logs: `<state>/logs/<app>/<id>.out.log` and `.err.log` (rotated ones beside them as `.1`, `.2` …), and the app's
/// access log `<state>/logs/<app>/access.log`.
/// Records: `<state>/instances/<app>/<id>.supervisor` and `<id>.exit`.
public struct SupervisionPaths: Sendable, Equatable {
    /// The state directory.
    public var stateDirectory: String
    /// The app.
    public var app: String
    /// The instance.
    public var instance: String

    /// The paths of `instance` of `app` under `stateDirectory`.
    public init(stateDirectory: String, app: String, instance: String) {
        self.stateDirectory = stateDirectory
        self.app = app
        self.instance = instance
    }

    /// The directory of the app's logs.
    public var logDirectory: String { "\(stateDirectory)/logs/\(app)" }
    /// The directory of the app's records.
    public var recordDirectory: String { "\(stateDirectory)/instances/\(app)" }
    /// The app's access log, when its proxy writes one.
    public var accessLog: String { "\(logDirectory)/access.log" }
    /// Where standard output goes.
    public var stdoutLog: String { "\(logDirectory)/\(instance).out.log" }
    /// Where standard error goes.
    public var stderrLog: String { "\(logDirectory)/\(instance).err.log" }
    /// The ``SupervisorRecord``, written once the instance runs.
    public var supervisorRecord: String { "\(recordDirectory)/\(instance).supervisor" }
    /// The ``ExitRecord``, written once it has ended (or could not start).
    public var exitRecord: String { "\(recordDirectory)/\(instance).exit" }
}
