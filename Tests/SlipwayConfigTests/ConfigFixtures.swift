import SlipwayConfig

/// Parsing helpers shared by the tests.
enum ConfigFixtures {
    static let file = "slipway.yaml"
    static let baseDirectory = "/srv/shop"

    /// A smallest valid file: one app with only its required keys.
    static let minimal = """
        apps:
          - name: shop
            listen: 127.0.0.1:8080
            instances: 3
            version: "1.0.0"
            run:
              command: [shop-server, --port, "{port}"]
        """

    static func parse(_ yaml: String) throws(ConfigErrors) -> SlipwayConfig {
        try ConfigLoader.parse(yaml: yaml, file: file, baseDirectory: baseDirectory)
    }

    /// The printed diagnostics of `yaml`, or an empty list when it is valid.
    static func problems(_ yaml: String) -> [String] {
        do {
            _ = try parse(yaml)
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }

    /// The diagnostics of `yaml`, or an empty list when it is valid.
    static func diagnostics(_ yaml: String) -> [ConfigDiagnostic] {
        do {
            _ = try parse(yaml)
            return []
        } catch {
            return error.diagnostics
        }
    }

    /// The minimal file with `lines` added to the app, indented as app keys, from line 8 on.
    static func appProblemsYAML(_ lines: String) -> String {
        minimal + "\n"
            + lines.split(separator: "\n", omittingEmptySubsequences: false)
            .map { "    " + $0 }.joined(separator: "\n")
    }

    /// The app of the minimal file with `lines` added to it (see `appProblemsYAML`).
    static func app(_ lines: String) throws(ConfigErrors) -> AppSpec {
        try parse(appProblemsYAML(lines)).apps[0]
    }

    /// The printed diagnostics of the minimal file with `lines` added to the app (see `appProblemsYAML`).
    static func appProblems(_ lines: String) -> [String] {
        problems(appProblemsYAML(lines))
    }
}
