extension Controller: ControllerReading {
    public func configuredApps() -> [ConfiguredApp] {
        config.apps.map { app in
            ConfiguredApp(
                name: app.name,
                listen: listenAddress(of: app),
                instances: app.instances,
                version: app.version
            )
        }
    }
}
