/// What the dashboard's page shows of each app before its script has loaded anything: enough to be useful with
/// scripts off, and the list the script fills in.
public protocol DashboardSource: Sendable {
    /// Every app the controller runs, in the config's order.
    func dashboardApps() async -> [DashboardAppSummary]
}

/// One app as the dashboard's first paint shows it.
public struct DashboardAppSummary: Sendable, Equatable {
    /// The app's name.
    public var name: String
    /// The stable release, when the app has one.
    public var stable: String?
    /// Instances that pass their health check.
    public var healthyInstances: Int
    /// Instances the app should have.
    public var desiredInstances: Int
    /// Percent of traffic per version.
    public var weights: [String: Double]
    /// The current (or last) rollout in one line, for example
    /// `rollout #3 1.0.0 → 2.0.0 (canary): running, step 3/12 weight 25%`; nil when the app never had one.
    public var rollout: String?

    /// Creates a summary.
    public init(
        name: String,
        stable: String?,
        healthyInstances: Int,
        desiredInstances: Int,
        weights: [String: Double],
        rollout: String?
    ) {
        self.name = name
        self.stable = stable
        self.healthyInstances = healthyInstances
        self.desiredInstances = desiredInstances
        self.weights = weights
        self.rollout = rollout
    }
}
