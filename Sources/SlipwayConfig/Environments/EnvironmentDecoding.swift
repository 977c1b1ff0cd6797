import Yams

extension KeySchema {
    /// An entry of `environments`.
    static let environment = KeySchema(known: ["requires", "apps", "windows", "notifications"])
}

extension ConfigDecoder {
    /// One environment's own settings, and the overrides it writes for each app, by app name.
    struct EnvironmentEntry {
        var spec: EnvironmentSpec
        /// The environment's deploy windows, for every app in it.
        var windows: DeployWindowsSpec?
        /// The environment's notification channels, for every app in it.
        var notifications: [NotificationChannelSpec]
        var overrides: [(name: String, node: Node?, entry: Entry)]
    }

    /// `environments`: a mapping from environment name to `requires` and `apps` (app name → the settings that differ
    /// there). Names of apps are checked against `appNames`, the names written in `apps`.
    func environments(_ entry: Entry, appNames: [String]) -> [EnvironmentEntry] {
        guard let entries = entries(of: entry.value, at: entry.path) else { return [] }
        if entries.isEmpty {
            reportExpected("at least one environment, like {staging: {apps: {…}}}", entry)
        }
        var result: [EnvironmentEntry] = []
        for environment in entries {
            guard NameRules.isAppName(environment.name) else {
                let message =
                    "expected an environment name of lowercase letters, digits and '-', starting with a letter, got "
                    + Node.quote(environment.name)
                report(environment.key.location, environment.path, message)
                continue
            }
            guard let fields = fields(of: environment.value, at: environment.path, schema: .environment) else {
                continue
            }
            var spec = EnvironmentSpec(name: environment.name)
            if let requires = fields["requires"] {
                let earlier = result.map(\.spec.name)
                if let name = string(requires) {
                    if earlier.contains(name) {
                        spec.requires = name
                    } else if name == environment.name {
                        report(requires.value.location, requires.path, "an environment cannot require itself")
                    } else {
                        let written = earlier.isEmpty ? "none" : earlier.map { "`\($0)`" }.joined(separator: ", ")
                        let message =
                            "no environment `\(name)` is declared before `\(environment.name)`; releases go through "
                            + "environments in the order written (declared before: \(written))"
                        report(requires.value.location, requires.path, message)
                    }
                }
            }
            var overrides: [(name: String, node: Node?, entry: Entry)] = []
            if let apps = require("apps", in: fields), let appEntries = self.entries(of: apps.value, at: apps.path) {
                for app in appEntries {
                    guard appNames.contains(app.name) else {
                        var message = "no app `\(app.name)` in `apps`"
                        if let suggestion = KeySuggestion.closest(to: app.name, among: appNames) {
                            message += "; did you mean `\(suggestion)`?"
                        }
                        report(app.key.location, app.path, message)
                        continue
                    }
                    var override: Node?
                    if case .mapping(let mapping) = app.value {
                        var kept: [(Node, Node)] = []
                        for (key, value) in mapping {
                            if document.keyName(key) == "name" {
                                let message = "an app keeps its name in every environment"
                                report(key.location, KeyPath.join(app.path, "name"), message)
                            } else {
                                kept.append((key, value))
                            }
                        }
                        override = .mapping(Node.Mapping(kept, mapping.tag, mapping.style, mapping.mark))
                    } else if !app.value.isNull {
                        reportExpected("a mapping of the app's settings that differ in `\(environment.name)`", app)
                        continue
                    }
                    overrides.append((app.name, override, app))
                    spec.apps.append(app.name)
                }
            }
            let windows = fields["windows"].flatMap(deployWindows)
            let notifications = fields["notifications"].flatMap(notifications) ?? []
            result.append(
                EnvironmentEntry(spec: spec, windows: windows, notifications: notifications, overrides: overrides)
            )
        }
        return result
    }

    /// `base` with `override` laid over it: mappings are merged key by key (recursively), anything else is replaced.
    /// Where the override chooses one of a set of alternatives (a strategy, `count` or `duration`), the base's other
    /// alternatives are dropped. Every node keeps its own position, so problems point into the right place.
    func merge(_ base: Node, _ override: Node?) -> Node {
        guard let override else { return base }
        guard case .mapping(let baseMapping) = base, case .mapping(let overrideMapping) = override else {
            return override
        }
        let overrideNames = Set(overrideMapping.compactMap { document.keyName($0.key) })
        var dropped: Set<String> = []
        for group in Self.alternatives where !overrideNames.isDisjoint(with: group) {
            dropped.formUnion(group.subtracting(overrideNames))
        }
        var pairs: [(Node, Node)] = []
        var merged: Set<String> = []
        for (key, value) in baseMapping {
            guard let name = document.keyName(key) else {
                pairs.append((key, value))
                continue
            }
            if dropped.contains(name) { continue }
            if let replacement = overrideMapping.first(where: { document.keyName($0.key) == name }) {
                pairs.append((replacement.key, merge(value, replacement.value)))
                merged.insert(name)
            } else {
                pairs.append((key, value))
            }
        }
        for (key, value) in overrideMapping where !merged.contains(document.keyName(key) ?? "") {
            pairs.append((key, value))
        }
        return .mapping(Node.Mapping(pairs, baseMapping.tag, baseMapping.style, baseMapping.mark))
    }

    /// Keys of which a mapping holds one.
    private static let alternatives: [Set<String>] = [
        Set(strategyKinds),
        ["count", "duration"],
    ]
}
