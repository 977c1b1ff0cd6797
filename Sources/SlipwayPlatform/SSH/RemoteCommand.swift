import SlipwayCore

/// A command that changed something on a host (started or stopped an instance or a data plane, installed a program),
/// as the controller records it: what it did, the words it ran, and how it ended. Never the values of an instance's
/// variables: they go to the host over standard input, not in the words.
public struct RemoteCommand: Sendable, Equatable {
    /// What it did: `startInstance`, `stopInstance`, `killInstance`, `signalInstance`, `startDataPlane`,
    /// `stopDataPlane`, `install`, `shipRelease`, `freezeHost`, `thawHost`.
    public var action: String
    /// The host's name.
    public var host: String
    /// The instance it was about, if one.
    public var instance: InstanceID?
    /// The words that matter, as they ran there (a script's arguments, without the script).
    public var words: [String]
    /// How it ended, in a few words (`exited with status 0`, `timed out after 30s`).
    public var outcome: String
    /// Whether it did what it was for.
    public var succeeded: Bool
    /// How long it took.
    public var duration: Duration

    /// A record of one command.
    public init(
        action: String,
        host: String,
        instance: InstanceID? = nil,
        words: [String],
        outcome: String,
        succeeded: Bool,
        duration: Duration
    ) {
        self.action = action
        self.host = host
        self.instance = instance
        self.words = words
        self.outcome = outcome
        self.succeeded = succeeded
        self.duration = duration
    }
}

extension SSHClient {
    /// Runs `command` like ``run(_:timeout:input:)``, then tells ``report`` of it as `action` with `words` (what is
    /// worth keeping of the command line).
    func change(
        _ action: String,
        instance: InstanceID? = nil,
        words: [String],
        _ command: [String],
        timeout: Duration = .seconds(30),
        input: String? = nil,
        succeeded: (HookProcessResult) -> Bool = { $0.succeeded }
    ) async -> HookProcessResult {
        let result = await run(command, timeout: timeout, input: input)
        report?(
            RemoteCommand(
                action: action,
                host: host.name,
                instance: instance,
                words: words,
                outcome: result.summary(timeout: timeout),
                succeeded: succeeded(result),
                duration: result.duration
            )
        )
        return result
    }
}
