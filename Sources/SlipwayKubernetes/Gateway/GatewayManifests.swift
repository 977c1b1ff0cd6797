import SlipwayCore

/// The objects through which a Gateway API implementation splits an app's traffic between its releases: a Service per
/// release (selecting the release's pods) and one `HTTPRoute` whose `backendRefs` carry each release's weight.
public enum GatewayManifests {
    /// The Gateway (or other parent) the route attaches to.
    public struct Parent: Sendable, Equatable {
        /// Its name.
        public var name: String
        /// Its namespace; nil for the route's own.
        public var namespace: String?
        /// The listener of the Gateway, when the route attaches to one only.
        public var sectionName: String?

        /// A parent.
        public init(name: String, namespace: String? = nil, sectionName: String? = nil) {
            self.name = name
            self.namespace = namespace
            self.sectionName = sectionName
        }
    }

    /// The largest weight the Gateway API allows.
    public static let maximumWeight = 1_000_000

    /// The Service of `version`: its pods, on the port named `http`.
    public static func service(of workload: KubernetesWorkload, version: String) -> JSONValue {
        let labels = KubernetesNames.labels(app: workload.app, baseName: workload.baseName, version: version)
        return [
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": [
                "name": .string(KubernetesNames.releaseName(app: workload.app, version: version)),
                "namespace": .string(workload.namespace),
                "labels": .object(labels.mapValues { .string($0) }),
                "annotations": [KubernetesNames.versionAnnotation: .string(version)],
            ],
            "spec": [
                "selector": .object(
                    KubernetesNames.selectorLabels(app: workload.app, version: version).mapValues { .string($0) }
                ),
                "ports": [
                    ["name": "http", "port": .int(workload.port), "targetPort": "http", "protocol": "TCP"]
                ],
            ],
        ]
    }

    /// The name of the app's route.
    public static func routeName(app: String) -> String {
        KubernetesNames.releaseName(app: app, version: "route")
    }

    /// The app's `HTTPRoute`: every request (`PathPrefix /`) of `hostnames` goes to the releases' Services in
    /// proportion to `weights` (each 0 to ``maximumWeight``), in the order given.
    public static func route(
        of workload: KubernetesWorkload,
        parent: Parent,
        hostnames: [String] = [],
        weights: [(version: String, weight: Int)]
    ) -> JSONValue {
        var parentRef: [String: JSONValue] = ["name": .string(parent.name)]
        if let namespace = parent.namespace { parentRef["namespace"] = .string(namespace) }
        if let section = parent.sectionName { parentRef["sectionName"] = .string(section) }
        var spec: [String: JSONValue] = [
            "parentRefs": [.object(parentRef)],
            "rules": [
                [
                    "matches": [["path": ["type": "PathPrefix", "value": "/"]]],
                    "backendRefs": .array(
                        weights.map { entry in
                            [
                                "name": .string(KubernetesNames.releaseName(app: workload.app, version: entry.version)),
                                "port": .int(workload.port),
                                "weight": .int(entry.weight),
                            ]
                        }
                    ),
                ]
            ],
        ]
        if !hostnames.isEmpty { spec["hostnames"] = .array(hostnames.map { .string($0) }) }
        return [
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": [
                "name": .string(routeName(app: workload.app)),
                "namespace": .string(workload.namespace),
                "labels": [
                    KubernetesNames.managedByLabel: .string(KubernetesNames.managedBy),
                    KubernetesNames.appLabel: .string(KubernetesNames.appLabelValue(workload.app)),
                ],
            ],
            "spec": .object(spec),
        ]
    }

    /// The weights a stored route carries, by Service name, in order; empty when it has none.
    public static func weights(in route: JSONValue) -> [(service: String, weight: Int)] {
        guard case .array(let rules) = route["spec"]?["rules"] ?? .null, let rule = rules.first,
            case .array(let backends) = rule["backendRefs"] ?? .null
        else { return [] }
        return backends.compactMap { backend in
            backend["name"]?.stringValue.map { ($0, backend["weight"]?.intValue ?? 1) }
        }
    }
}
