/// When a hook runs, relative to a rollout.
public enum HookPoint: String, Sendable, Hashable, Codable, CaseIterable {
    /// Before the first candidate instance starts (a database snapshot, say). A failure ends the rollout before
    /// anything changed.
    case preDeploy
    /// Before the candidate takes all traffic (smoke tests against the candidate or the blue-green preview
    /// listener, or a webhook gate). A failure rolls the rollout back.
    case prePromotion
    /// After the candidate took all traffic. A failure is recorded and notified; nothing is undone.
    case postPromotion
    /// After a rollout went back to the stable release (automatically or by a user). A failure is recorded.
    case onRollback

    /// Whether the rollout waits for the hooks at this point, and stops when one fails.
    public var blocksRollout: Bool { self == .preDeploy || self == .prePromotion }
}

/// One hook: a command run as an argument vector, or a webhook gate asked until it says go.
public struct HookSpec: Sendable, Equatable {
    /// What the hook does.
    public enum Action: Sendable, Equatable {
        /// Run a program (never through a shell). It succeeds when it exits with status 0 within its timeout.
        case command(HookCommand)
        /// POST the rollout's facts to a URL until it answers 2xx (go), re-asking every `interval` until the
        /// deadline.
        case gate(WebhookGate)
    }

    /// The hook's name in events and messages; defaults to the program's file name, or `webhook` for a gate.
    public var name: String
    /// What it does.
    public var action: Action
    /// Where it is written, like `apps[0].hooks.preDeploy[1]`.
    public var keyPath: String

    /// Creates a hook.
    public init(name: String, action: Action, keyPath: String = "") {
        self.name = name
        self.action = action
        self.keyPath = keyPath
    }
}

/// A program run by a hook.
public struct HookCommand: Sendable, Equatable {
    /// The program and its arguments, passed as they are written (no shell, no placeholders; the facts of the
    /// rollout are in the environment).
    public var argv: [String]
    /// Variables added to the hook's environment (after the controller's own, before the `SLIPWAY_*` ones).
    public var env: [String: String]
    /// The absolute directory it starts in; nil for the configuration file's directory.
    public var workingDirectory: String?
    /// How long it may run before it is stopped (SIGTERM, then SIGKILL 5 s later) and counted as failed.
    public var timeout: Duration

    /// The timeout when `timeout` is absent.
    public static let defaultTimeout: Duration = .seconds(300)

    /// Creates a command hook.
    public init(
        argv: [String],
        env: [String: String] = [:],
        workingDirectory: String? = nil,
        timeout: Duration = HookCommand.defaultTimeout
    ) {
        self.argv = argv
        self.env = env
        self.workingDirectory = workingDirectory
        self.timeout = timeout
    }
}

/// A webhook asked whether a rollout may go on, like a confirm-promotion webhook: 2xx means go; anything else
/// (another status, no answer within `timeout`, a connection error) means wait and ask again after `interval`,
/// until `deadline` has passed since the first question, when the gate fails.
public struct WebhookGate: Sendable, Equatable {
    /// Where to POST; a secret, never shown.
    public var url: SecretSource
    /// How long to wait between questions.
    public var interval: Duration
    /// How long to keep asking.
    public var deadline: Duration
    /// How long one question may take.
    public var timeout: Duration

    /// Creates a gate.
    public init(
        url: SecretSource,
        interval: Duration = .seconds(10),
        deadline: Duration = .seconds(3600),
        timeout: Duration = .seconds(5)
    ) {
        self.url = url
        self.interval = interval
        self.deadline = deadline
        self.timeout = timeout
    }
}

/// An app's hooks by point, each point's hooks run in the order written.
public struct HooksSpec: Sendable, Equatable {
    /// The hooks of each point; points without hooks are absent.
    public var points: [HookPoint: [HookSpec]]

    /// Creates the hooks of an app.
    public init(_ points: [HookPoint: [HookSpec]] = [:]) {
        self.points = points.filter { !$0.value.isEmpty }
    }

    /// The hooks that run at `point`, in order.
    public subscript(point: HookPoint) -> [HookSpec] {
        points[point] ?? []
    }

    /// Whether no hook is configured.
    public var isEmpty: Bool { points.isEmpty }
}
