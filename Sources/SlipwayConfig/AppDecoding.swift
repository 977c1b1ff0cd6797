import Yams

extension ConfigDecoder {
    /// One entry of `apps` (or its copy in an environment, with the environment's settings merged in, decoded at
    /// `environments.<env>.apps.<app>`); the spec is nil when a required key is missing or invalid.
    /// `inherited` holds the deploy windows of the levels above the app (its environment's, the top level's).
    func app(
        _ node: Node,
        index: Int,
        environment: EnvironmentSpec? = nil,
        inherited: Inherited = Inherited()
    ) -> (spec: AppSpec?, identity: AppIdentity) {
        var identity = AppIdentity(index: index)
        let written = appName(of: node)
        let path = AppSpec.path(
            name: written ?? "",
            environment: written == nil ? nil : environment?.name,
            index: index
        )
        identity.path = path
        guard let fields = fields(of: node, at: path, schema: .app) else { return (nil, identity) }

        let name = require("name", in: fields).flatMap { entry in
            string(
                entry,
                matching: NameRules.isAppName,
                expectation: "an app name of lowercase letters, digits and '-', starting with a letter, "
                    + "at most 63 characters"
            ).map { (value: $0, entry: entry) }
        }
        identity.name = name.map { name in
            (environment.map { "\(name.value)@\($0.name)" } ?? name.value, name.entry)
        }
        let listen = require("listen", in: fields).flatMap { entry in
            hostPort(entry).map { (value: $0, entry: entry) }
        }
        identity.listen = listen
        let hosts = fields["hosts"].flatMap(appHosts)
        // On hosts, `instances` counts on each host; everything else counts the app's instances in all.
        var instances = require("instances", in: fields).flatMap { integer($0, in: 1...1000) }
        if let perHost = instances, let hosts, let entry = fields["instances"], perHost * hosts.count > 1000 {
            let message =
                "\(perHost) instances on each of \(hosts.count) hosts make \(perHost * hosts.count); "
                + "an app runs at most 1000 in all"
            report(entry.value.location, entry.path, message)
            instances = nil
        }
        instances = instances.map { $0 * (hosts?.count ?? 1) }
        if let hosts, let listen, listen.value.port == 0 {
            let message =
                "an app on hosts (\(hosts.joined(separator: ", "))) needs a fixed port, the same on every host, "
                + "for a load balancer to reach; got port 0"
            report(listen.entry.value.location, listen.entry.path, message)
        }
        let version = require("version", in: fields).flatMap { entry in
            string(
                entry,
                matching: NameRules.isVersion,
                expectation: "a version of letters, digits, '.', '_', '+' and '-', starting with a letter or digit, "
                    + "at most 128 characters"
            )
        }
        let run = require("run", in: fields).flatMap { self.run($0, hosts: hosts) }
        let kubernetes = appKubernetes(
            platform: fields["platform"],
            settings: fields["kubernetes"],
            hosts: fields["hosts"],
            run: run,
            runEntry: fields["run"]
        )
        let health = health(fields["health"])
        let restart = restart(fields["restart"])
        let logs = logs(fields["logs"])
        let proxy = proxy(fields["proxy"])
        let strategy = strategy(
            fields["strategy"],
            appInstances: instances,
            previewListen: &identity.previewListen
        )
        if let hosts, let (preview, entry) = identity.previewListen, preview.port == 0 {
            let message =
                "an app on hosts (\(hosts.joined(separator: ", "))) needs a fixed preview port, the same on every "
                + "host; got port 0"
            report(entry.value.location, entry.path, message)
        }
        let analysis = analysis(fields["analysis"])
        let warmup = warmUp(fields["warmup"])
        let hooks = hooks(fields["hooks"])
        let windows = fields["windows"].flatMap(deployWindows)
        let notifications = fields["notifications"].flatMap(notifications) ?? []
        var monkey = chaosMonkey(fields["chaos"], defaults: inherited.monkey ?? MonkeySpec())
        // `enabled: false` at the top of the file is the monkey's kill switch: no app overrides it.
        if inherited.monkey?.enabled == false { monkey?.enabled = false }

        guard let name, let listen, let instances, let version, let run else { return (nil, identity) }
        var locations: [String: SourceLocation] = [:]
        recordLocations(of: node, at: "", into: &locations)
        let spec = AppSpec(
            index: index,
            name: name.value,
            listen: listen.value,
            instances: instances,
            version: version,
            run: run,
            health: health,
            restart: restart,
            logs: logs,
            proxy: proxy,
            strategy: strategy,
            analysis: analysis,
            warmup: warmup,
            hooks: hooks,
            windows: (windows.map { [$0] } ?? []) + inherited.windows,
            notifications: notifications + inherited.notifications,
            monkey: monkey,
            hosts: hosts ?? [],
            environment: environment?.name,
            requires: environment?.requires,
            kubernetes: kubernetes,
            locations: locations
        )
        return (spec, identity)
    }

    /// The settings an app takes from the levels above it.
    struct Inherited {
        /// Deploy windows, nearest level first.
        var windows: [DeployWindowsSpec] = []
        /// Notification channels, nearest level first.
        var notifications: [NotificationChannelSpec] = []
        /// The top-level `chaos.monkey`: the defaults of every app's, and the kill switch.
        var monkey: MonkeySpec?
    }

    /// The `name` written in an app mapping, when it is a valid app name.
    func appName(of node: Node) -> String? {
        guard case .mapping(let mapping) = node else { return nil }
        for (key, value) in mapping where document.keyName(key) == "name" {
            guard let text = value.scalarText, NameRules.isAppName(text) else { return nil }
            return text
        }
        return nil
    }

    /// Records the position of every value under `node`, by key path relative to the app.
    /// Where a key is repeated, the first one is kept, as it is the one that was read.
    private func recordLocations(of node: Node, at path: String, into locations: inout [String: SourceLocation]) {
        guard locations[path] == nil else { return }
        locations[path] = node.location
        switch node {
        case .mapping(let mapping):
            for (key, value) in mapping {
                if let name = document.keyName(key) {
                    recordLocations(of: value, at: KeyPath.join(path, name), into: &locations)
                }
            }
        case .sequence(let sequence):
            for (index, element) in sequence.enumerated() {
                recordLocations(of: element, at: KeyPath.element(path, index), into: &locations)
            }
        case .scalar, .alias:
            break
        }
    }
}
