import SlipwayStore

extension Controller: DashboardSource {
    public func dashboardApps() async -> [DashboardAppSummary] {
        var summaries: [DashboardAppSummary] = []
        for app in config.apps {
            let status = (try? self.status(app: app.name)) ?? AppStatus(app: app.name)
            let rollout = (try? await rollout(app: app.name)).flatMap { $0 }
            summaries.append(
                DashboardAppSummary(
                    name: app.name,
                    stable: status.version ?? app.version,
                    healthyInstances: status.healthyCount,
                    desiredInstances: app.instances,
                    weights: status.weights,
                    rollout: rollout.map { "\($0.title): \($0.stateText)" }
                )
            )
        }
        return summaries
    }
}
