import Yams

extension ConfigDecoder {
    /// The whole document; nil when anything was reported.
    func document(_ root: Node?) -> SlipwayConfig? {
        guard let root else {
            report(.documentStart, "", "the file is empty; expected a mapping with `apps`")
            return nil
        }
        guard case .mapping = root else {
            report(root.location, "", "expected a mapping with `apps` at the top level, got \(root.foundDescription)")
            return nil
        }
        guard let fields = fields(of: root, at: "", schema: .document) else { return nil }
        let controller = controller(fields["controller"])
        let hosts = fields["hosts"].map(hosts) ?? []
        let cluster = fields["kubernetes"].flatMap(cluster)
        var inherited = Inherited()
        if let windows = fields["windows"].flatMap(deployWindows) { inherited.windows.append(windows) }
        inherited.notifications = fields["notifications"].flatMap(notifications) ?? []
        inherited.monkey = chaosMonkey(fields["chaos"], defaults: MonkeySpec())
        let decoded = require("apps", in: fields).flatMap { entry in
            self.apps(entry, environments: fields["environments"], inherited: inherited)
        }
        let (specs, identities, environments) = decoded ?? ([], [], [])
        checkAddresses(identities, controller: controller, controllerAPI: fields["controller"])
        checkNames(identities)
        let names = Set(identities.compactMap { $0.name?.value })
        for target in chaosTargets where !names.contains(target.name) {
            let known = names.sorted().map { "`\($0)`" }.joined(separator: ", ")
            report(target.location, target.path, "no app is named `\(target.name)` (the apps are \(known))")
        }
        checkHostTargets(declared: hosts)
        if !prometheusWritten {
            for check in queryChecks {
                report(
                    check.location,
                    check.path,
                    "a PromQL `query` needs `controller.prometheus`, the Prometheus to ask; none is configured"
                )
            }
        }
        guard diagnostics.isEmpty else { return nil }
        return SlipwayConfig(
            file: file,
            baseDirectory: baseDirectory,
            controller: controller,
            apps: specs,
            environments: environments,
            hosts: hosts,
            kubernetes: cluster ?? (specs.contains { $0.kubernetes != nil } ? ClusterSpec() : nil)
        )
    }

    /// `apps`: a non-empty list of apps; with `environments`, one copy of each app per environment that lists it.
    private func apps(
        _ entry: Entry,
        environments: Entry?,
        inherited: Inherited
    ) -> (specs: [AppSpec], identities: [AppIdentity], environments: [EnvironmentSpec])? {
        guard let elements = list(entry, expectation: "a list of apps") else { return nil }
        if elements.isEmpty {
            reportExpected("at least one app", entry)
        }
        guard let environments else {
            var specs: [AppSpec] = []
            var identities: [AppIdentity] = []
            for (index, element) in elements.enumerated() {
                let (spec, identity) = app(element, index: index, inherited: inherited)
                specs += spec.map { [$0] } ?? []
                identities.append(identity)
            }
            return (specs, identities, [])
        }
        return appsInEnvironments(elements, environments: environments, inherited: inherited)
    }

    /// Every app of `apps` in every environment that lists it, decoded with the environment's overrides merged in.
    private func appsInEnvironments(
        _ elements: [Node],
        environments entry: Entry,
        inherited: Inherited
    ) -> (specs: [AppSpec], identities: [AppIdentity], environments: [EnvironmentSpec]) {
        var bases: [(name: String, node: Node, index: Int)] = []
        var baseIdentities: [AppIdentity] = []
        for (index, element) in elements.enumerated() {
            var identity = AppIdentity(index: index, path: KeyPath.element("apps", index))
            guard let name = appName(of: element) else {
                // Decoded alone, so that a missing or invalid name is reported where it is written.
                _ = app(element, index: index)
                continue
            }
            bases.append((name, element, index))
            if case .mapping(let mapping) = element,
                let pair = mapping.first(where: { document.keyName($0.key) == "name" })
            {
                identity.name = (
                    name, Entry(name: "name", key: pair.key, value: pair.value, path: identity.path + ".name")
                )
            }
            baseIdentities.append(identity)
        }
        checkNames(baseIdentities)
        let declared = environments(entry, appNames: bases.map(\.name))
        var specs: [AppSpec] = []
        var identities: [AppIdentity] = []
        for environment in declared {
            for override in environment.overrides {
                guard let base = bases.first(where: { $0.name == override.name }) else { continue }
                let node = merge(base.node, override.node)
                let reported = diagnostics.count
                var levels = inherited
                levels.windows = environment.windows.map { [$0] + levels.windows } ?? levels.windows
                levels.notifications = environment.notifications + levels.notifications
                let (spec, identity) = app(node, index: base.index, environment: environment.spec, inherited: levels)
                relocate(
                    since: reported,
                    at: positions(in: base.node),
                    prefix: identity.path,
                    to: KeyPath.element("apps", base.index)
                )
                specs += spec.map { [$0] } ?? []
                identities.append(identity)
            }
        }
        let listed = Set(declared.flatMap(\.spec.apps))
        for base in bases where !listed.contains(base.name) {
            let message =
                "app `\(base.name)` runs in no environment; list it under `environments.<name>.apps` "
                + "(with `{}` when nothing differs there)"
            report(base.node.location, KeyPath.element("apps", base.index), message)
        }
        return (specs, identities, declared.map(\.spec))
    }

    /// App names are unique; a repeated name is reported where it is repeated.
    private func checkNames(_ apps: [AppIdentity]) {
        var firstIndex: [String: String] = [:]
        for app in apps {
            guard let (name, entry) = app.name else { continue }
            if let firstPath = firstIndex[name] {
                report(entry.value.location, entry.path, "app name `\(name)` is already used by \(firstPath)")
            } else {
                firstIndex[name] = app.path
            }
        }
    }

    /// Listen addresses differ from each other and from the controller's API address.
    private func checkAddresses(_ apps: [AppIdentity], controller: ControllerSpec, controllerAPI: Entry?) {
        var earlier: [(address: HostPort, path: String)] = []
        for app in apps {
            guard let (address, entry) = app.listen else { continue }
            if address.conflicts(with: controller.api) {
                let setting = controllerAPI == nil ? "the controller's default API address" : "controller.api"
                report(entry.value.location, entry.path, "address \(address) is already used by \(setting)")
            } else if let other = earlier.first(where: { address.conflicts(with: $0.address) }) {
                let message =
                    "address \(address) is already used by \(other.path).listen"
                    + (other.address == address ? "" : " (\(other.address))")
                report(entry.value.location, entry.path, message)
            }
            earlier.append((address, app.path))
        }
        checkPreviewAddresses(apps, controller: controller, controllerAPI: controllerAPI)
    }

    /// Blue-green preview addresses differ from every listen address, from each other and from the controller's.
    private func checkPreviewAddresses(_ apps: [AppIdentity], controller: ControllerSpec, controllerAPI: Entry?) {
        let listens = apps.compactMap { app in app.listen.map { (address: $0.value, path: app.path) } }
        var earlier: [(address: HostPort, path: String)] = []
        for app in apps {
            guard let (address, entry) = app.previewListen else { continue }
            if address.conflicts(with: controller.api) {
                let setting = controllerAPI == nil ? "the controller's default API address" : "controller.api"
                report(entry.value.location, entry.path, "address \(address) is already used by \(setting)")
            } else if let other = listens.first(where: { address.conflicts(with: $0.address) }) {
                let message =
                    "address \(address) is already used by \(other.path).listen"
                    + (other.address == address ? "" : " (\(other.address))")
                report(entry.value.location, entry.path, message)
            } else if let other = earlier.first(where: { address.conflicts(with: $0.address) }) {
                let message =
                    "address \(address) is already used by \(other.path).strategy.blueGreen.previewListen"
                    + (other.address == address ? "" : " (\(other.address))")
                report(entry.value.location, entry.path, message)
            }
            earlier.append((address, app.path))
        }
    }

    /// The positions of every key and value under `node`.
    private func positions(in node: Node) -> Set<SourceLocation> {
        var result: Set<SourceLocation> = [node.location]
        switch node {
        case .mapping(let mapping):
            for (key, value) in mapping {
                result.insert(key.location)
                result.formUnion(positions(in: value))
            }
        case .sequence(let sequence):
            for element in sequence { result.formUnion(positions(in: element)) }
        case .scalar, .alias:
            break
        }
        return result
    }
}
