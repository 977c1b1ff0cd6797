/// How to start one instance of an app (key `run`).
public struct RunSpec: Sendable, Equatable {
    /// The program and its arguments. `{version}` and `{port}` are replaced for each instance (see `argv`), and
    /// `{release}` by the folder the instance's release was unpacked in, for an app with an ``artifact``.
    public var command: [String]
    /// Environment variables added to the instance's environment. Default none.
    public var env: [String: String]
    /// The absolute directory the instance starts in (key `workingDir`); nil to use the controller's.
    public var workingDirectory: String?
    /// The signal that asks an instance to stop. Default `SIGTERM`.
    public var stopSignal: StopSignal
    /// How long an instance may take to exit after `stopSignal` before it is killed. Default 10s.
    public var stopGracePeriod: Duration
    /// The absolute path of the file each release is shipped as (key `artifact`), with `{version}` in it; nil when
    /// the program is already where the command says. Sent to the app's hosts, checked by its SHA-256 and unpacked in
    /// a folder of its own per version; see ``artifactPath(version:)``.
    public var artifact: String?

    /// Creates a run specification; parameters other than `command` default to the value used when the key is absent.
    public init(
        command: [String],
        env: [String: String] = [:],
        workingDirectory: String? = nil,
        stopSignal: StopSignal = .terminate,
        stopGracePeriod: Duration = .seconds(10),
        artifact: String? = nil
    ) {
        self.command = command
        self.env = env
        self.workingDirectory = workingDirectory
        self.stopSignal = stopSignal
        self.stopGracePeriod = stopGracePeriod
        self.artifact = artifact
    }

    /// The artifact of `version`: ``artifact`` with `{version}` replaced; nil without one.
    public func artifactPath(version: String) -> String? {
        artifact.map { Placeholders.artifact.render($0, ["version": version]) }
    }

    /// The run as it is in the release folder `folder`: `{release}` in the command replaced by it, and the instance
    /// starting there unless `workingDir` says otherwise.
    public func inRelease(_ folder: String) -> RunSpec {
        var run = self
        run.command = command.map { Placeholders.release.render($0, ["release": folder]) }
        run.workingDirectory = workingDirectory ?? folder
        return run
    }

    /// The command with `{version}` and `{port}` replaced by the values of one instance.
    public func argv(version: String, port: Int) -> [String] {
        command.map { substitute(in: $0, version: version, port: String(port)) }
    }

    /// Replaces the placeholders in one pass, so that a version text is never itself searched for placeholders.
    private func substitute(in argument: String, version: String, port: String) -> String {
        var result = ""
        var rest = Substring(argument)
        while let open = rest.firstIndex(of: "{") {
            result += rest[..<open]
            let tail = rest[open...]
            if tail.hasPrefix("{version}") {
                result += version
                rest = tail.dropFirst("{version}".count)
            } else if tail.hasPrefix("{port}") {
                result += port
                rest = tail.dropFirst("{port}".count)
            } else {
                result += "{"
                rest = tail.dropFirst()
            }
        }
        return result + rest
    }
}
