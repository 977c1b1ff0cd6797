/// How to start one instance of an app (key `run`).
public struct RunSpec: Sendable, Equatable {
    /// The program and its arguments. `{version}` and `{port}` are replaced for each instance; see `argv`.
    public var command: [String]
    /// Environment variables added to the instance's environment. Default none.
    public var env: [String: String]
    /// The absolute directory the instance starts in (key `workingDir`); nil to use the controller's.
    public var workingDirectory: String?
    /// The signal that asks an instance to stop. Default `SIGTERM`.
    public var stopSignal: StopSignal
    /// How long an instance may take to exit after `stopSignal` before it is killed. Default 10s.
    public var stopGracePeriod: Duration

    /// Creates a run specification; parameters other than `command` default to the value used when the key is absent.
    public init(
        command: [String],
        env: [String: String] = [:],
        workingDirectory: String? = nil,
        stopSignal: StopSignal = .terminate,
        stopGracePeriod: Duration = .seconds(10)
    ) {
        self.command = command
        self.env = env
        self.workingDirectory = workingDirectory
        self.stopSignal = stopSignal
        self.stopGracePeriod = stopGracePeriod
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
