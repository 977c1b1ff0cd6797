import Foundation
import SlipwayConfig
import SlipwayCore

/// What installs a Slipway controller in a cluster, for a configuration whose apps run there: its namespace and
/// ServiceAccount, a Role and RoleBinding with the least rights it needs in each of its apps' namespaces, its config
/// as a ConfigMap, its state on a PersistentVolumeClaim, the controller's Deployment (one pod; its data plane runs in
/// it) and a Service per app in front of it.
public enum InstallManifests {
    /// Where the config file is in the controller's pod.
    public static let configFolder = "/srv/slipway"
    /// The variable that makes the controller use its pod's ServiceAccount whatever `kubernetes` says.
    public static let inClusterVariable = "SLIPWAY_KUBERNETES_IN_CLUSTER"

    /// How to install.
    public struct Options: Sendable, Equatable {
        /// The controller's namespace.
        public var namespace: String
        /// The controller's image (it must hold `slipway`, `slipway-dataplane` and `slipway-supervisor` on its PATH).
        public var image: String
        /// The size of the state volume.
        public var storage: String

        /// Options; the defaults are those of `slipway kubernetes manifests`.
        public init(namespace: String = "slipway", image: String, storage: String = "1Gi") {
            self.namespace = namespace
            self.image = image
            self.storage = storage
        }
    }

    /// The controller cannot be installed from this configuration.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        /// What, where, and what to do.
        public var description: String
    }

    /// The objects, in the order to apply them; `configText` is the config file as written.
    public static func render(
        _ config: SlipwayConfig,
        configText: String,
        options: Options
    ) throws(Refusal) -> [JSONValue] {
        let apps = config.apps.filter { $0.kubernetes != nil }
        guard !apps.isEmpty else {
            throw Refusal(description: "no app has `platform: kubernetes`: there is nothing to run in a cluster")
        }
        for app in config.apps where app.kubernetes == nil {
            throw Refusal(
                description: "\(app.keyPath("platform")): app \(app.name) runs on "
                    + (app.hosts.isEmpty ? "this machine" : "hosts")
                    + "; a controller in the cluster runs only apps with `platform: kubernetes`"
            )
        }
        for app in apps where ["127.0.0.1", "localhost", "::1"].contains(app.listen.host) {
            throw Refusal(
                description: "\(app.keyPath("listen")): \(app.listen) is a loopback address, which a Service cannot "
                    + "reach in the controller's pod; listen on 0.0.0.0:\(app.listen.port)"
            )
        }
        for app in apps where app.listen.port == 0 {
            throw Refusal(description: "\(app.keyPath("listen")): a Service needs a fixed port; got port 0")
        }
        let namespace = options.namespace
        let labels: JSONValue = [
            KubernetesNames.managedByLabel: .string(KubernetesNames.managedBy),
            KubernetesNames.nameLabel: "slipway-controller",
        ]
        func metadata(_ name: String, in namespace: String? = options.namespace) -> JSONValue {
            var fields: [String: JSONValue] = ["name": .string(name), "labels": labels]
            if let namespace { fields["namespace"] = .string(namespace) }
            return .object(fields)
        }
        var objects: [JSONValue] = [
            ["apiVersion": "v1", "kind": "Namespace", "metadata": metadata(namespace, in: nil)],
            ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata("slipway")],
        ]
        for appNamespace in Set(apps.compactMap { $0.kubernetes?.namespace }).sorted() {
            objects.append(
                [
                    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                    "metadata": metadata("slipway", in: appNamespace), "rules": rules,
                ]
            )
            objects.append(
                [
                    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                    "metadata": metadata("slipway", in: appNamespace),
                    "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "slipway"],
                    "subjects": [["kind": "ServiceAccount", "name": "slipway", "namespace": .string(namespace)]],
                ]
            )
        }
        objects.append(
            [
                "apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata("slipway-config"),
                "data": ["slipway.yaml": .string(configText)],
            ]
        )
        objects.append(
            [
                "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata("slipway-state"),
                "spec": [
                    "accessModes": ["ReadWriteOnce"],
                    "resources": ["requests": ["storage": .string(options.storage)]],
                ],
            ]
        )
        objects.append(controller(config, apps: apps, options: options, labels: labels))
        for app in apps {
            objects.append(
                [
                    "apiVersion": "v1", "kind": "Service",
                    "metadata": metadata("slipway-" + KubernetesNames.releaseName(app: app.name, version: "listen")),
                    "spec": [
                        "selector": labels,
                        "ports": [
                            [
                                "name": "http", "port": .int(app.listen.port), "targetPort": .int(app.listen.port),
                                "protocol": "TCP",
                            ]
                        ],
                    ],
                ]
            )
        }
        return objects
    }

    /// The rights the controller needs in an app's namespace, and no more.
    static let rules: JSONValue = [
        ["apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch", "patch", "delete"]],
        ["apiGroups": [""], "resources": ["pods/status"], "verbs": ["patch"]],
        ["apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]],
        ["apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "create", "patch", "delete"]],
        ["apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["patch"]],
        ["apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update"]],
    ]

    /// The controller's Deployment: one pod at a time (`Recreate`, and a Lease per app besides), its config at
    /// ``configFolder``, its state where the config puts it, on the claim.
    private static func controller(
        _ config: SlipwayConfig,
        apps: [AppSpec],
        options: Options,
        labels: JSONValue
    ) -> JSONValue {
        let base = config.baseDirectory.hasSuffix("/") ? config.baseDirectory : config.baseDirectory + "/"
        let state = config.controller.stateDirectory
        let statePath =
            state.hasPrefix(base) ? configFolder + "/" + state.dropFirst(base.count) : state
        var ports: [JSONValue] = [
            ["name": "api", "containerPort": .int(config.controller.api.port), "protocol": "TCP"]
        ]
        for (index, app) in apps.enumerated() {
            ports.append(["name": .string("app-\(index)"), "containerPort": .int(app.listen.port), "protocol": "TCP"])
        }
        let container: JSONValue = [
            "name": "slipway",
            "image": .string(options.image),
            "command": ["slipway", "up", "-f", .string(configFolder + "/slipway.yaml")],
            "env": [["name": .string(inClusterVariable), "value": "true"]],
            "ports": .array(ports),
            "volumeMounts": [
                ["name": "config", "mountPath": .string(configFolder + "/slipway.yaml"), "subPath": "slipway.yaml"],
                ["name": "state", "mountPath": .string(statePath)],
            ],
        ]
        return [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": "slipway-controller", "namespace": .string(options.namespace), "labels": labels],
            "spec": [
                "replicas": 1,
                "strategy": ["type": "Recreate"],
                "selector": ["matchLabels": labels],
                "template": [
                    "metadata": ["labels": labels],
                    "spec": [
                        "serviceAccountName": "slipway",
                        // Instances and routes outlive a controller; it needs time to hand over, not to drain.
                        "terminationGracePeriodSeconds": 30,
                        "containers": [container],
                        "volumes": [
                            ["name": "config", "configMap": ["name": "slipway-config"]],
                            ["name": "state", "persistentVolumeClaim": ["claimName": "slipway-state"]],
                        ],
                    ],
                ],
            ],
        ]
    }
}
