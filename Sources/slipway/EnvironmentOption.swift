import ArgumentParser

/// `--environment ENV`: which copy of an app a command means, in a configuration with environments.
struct EnvironmentOption: ParsableArguments {
    @Option(
        name: [.customShort("e"), .long],
        help: "The environment of the app (the same as naming the app APP@ENV)."
    )
    var environment: String?

    /// `app` in the chosen environment: `shop@prod` for `shop` with `--environment prod`; `app` as given otherwise.
    func qualified(_ app: String) -> String {
        guard let environment, !app.contains("@") else { return app }
        return "\(app)@\(environment)"
    }

    func validate() throws {
        if let environment, environment.isEmpty || environment.contains("@") {
            throw ValidationError("--environment: expected an environment name like prod, got \"\(environment)\"")
        }
    }
}
