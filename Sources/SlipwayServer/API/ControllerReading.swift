import SlipwayEngine
import SlipwayStore

/// A configured app as the read endpoints show it.
public struct ConfiguredApp: Sendable, Equatable {
    /// The app's name.
    public var name: String
    /// Where its listener is bound (`127.0.0.1:8080`).
    public var listen: String
    /// Its configured instance count.
    public var instances: Int
    /// Its configured stable version.
    public var version: String

    /// Creates a configured app.
    public init(name: String, listen: String, instances: Int, version: String) {
        self.name = name
        self.listen = listen
        self.instances = instances
        self.version = version
    }
}

/// What the read endpoints of the API need from the controller.
public protocol ControllerReading: Sendable {
    /// Every configured app, in config order.
    func configuredApps() -> [ConfiguredApp]
    /// The event log every view is folded from.
    var log: EventLog { get }
    /// The app's current rollout, or its last one; nil when it never had one.
    func rollout(app: String) async throws(CommandRefusal) -> RolloutSummary?
    /// The live report of the A/B experiment of the app's current or last rollout; nil when this controller ran none.
    func experiment(app: String) async throws(CommandRefusal) -> ExperimentReport?
    /// What the app looks like now, folded from its events.
    func status(app: String) throws(StoreError) -> AppStatus
    /// The app's deploy windows now, and its quietest hours.
    func windows(app: String) throws(CommandRefusal) -> WindowsView
}

extension ControllerReading {
    /// A reader without live rollouts only knows the experiments the log recorded.
    public func experiment(app: String) async throws(CommandRefusal) -> ExperimentReport? { nil }

    /// A reader without deploy windows knows none.
    public func windows(app: String) throws(CommandRefusal) -> WindowsView {
        throw CommandRefusal(.notFound, "no deploy windows are known for \"\(app)\"")
    }

    /// Folds the app's events from the log; a controller keeps the projection up to date instead.
    public func status(app: String) throws(StoreError) -> AppStatus {
        AppStatus.fold(app: app, events: try log.events(app: app, limit: .max))
    }
}
