import SlipwayConfig
import SlipwayCore

/// The objects a release is on Kubernetes, as server-side apply bodies: everything Slipway sets, nothing else.
public enum ReleaseManifest {
    /// The name of the one container of a release's pods.
    public static let containerName = "app"

    /// The Deployment of `version` of the workload's app, running `run` with `replicas` pods.
    ///
    /// Its pods carry the release's labels and annotations, the app's health check as their readiness probe on the
    /// named port `http`, and the readiness gate ``KubernetesNames/servingCondition``. Their environment is `run.env`,
    /// then `PORT`, `SLIPWAY_APP`, `SLIPWAY_VERSION`, `SLIPWAY_POD` (the pod's name) and `POD_IP` (its address).
    public static func deployment(
        of workload: KubernetesWorkload,
        version: String,
        run: RunSpec,
        replicas: Int,
        rollout: String? = nil
    ) -> JSONValue {
        let labels = KubernetesNames.labels(app: workload.app, baseName: workload.baseName, version: version)
        var objectLabels = labels
        if let rollout { objectLabels[KubernetesNames.rolloutLabel] = KubernetesNames.labelValue(rollout) }
        let annotations: JSONValue = [
            KubernetesNames.appAnnotation: .string(workload.app),
            KubernetesNames.versionAnnotation: .string(version),
        ]
        let selector = KubernetesNames.selectorLabels(app: workload.app, version: version)
        return [
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": [
                "name": .string(KubernetesNames.releaseName(app: workload.app, version: version)),
                "namespace": .string(workload.namespace),
                "labels": strings(objectLabels),
                "annotations": annotations,
            ],
            "spec": [
                "replicas": .int(replicas),
                "revisionHistoryLimit": 2,
                "selector": ["matchLabels": strings(selector)],
                "template": [
                    "metadata": ["labels": strings(labels), "annotations": annotations],
                    "spec": podSpec(of: workload, version: version, run: run),
                ],
            ],
        ]
    }

    private static func podSpec(of workload: KubernetesWorkload, version: String, run: RunSpec) -> JSONValue {
        var container: [String: JSONValue] = [
            "name": .string(containerName),
            "image": .string(workload.image(of: version)),
            "env": .array(environment(of: workload, version: version, run: run)),
            "ports": [["name": "http", "containerPort": .int(workload.port), "protocol": "TCP"]],
            "readinessProbe": readinessProbe(workload.health),
            "terminationMessagePolicy": "FallbackToLogsOnError",
        ]
        let command = run.argv(version: version, port: workload.port)
        if !command.isEmpty { container["command"] = .array(command.map { .string($0) }) }
        if let directory = run.workingDirectory { container["workingDir"] = .string(directory) }
        if let policy = workload.settings.imagePullPolicy { container["imagePullPolicy"] = .string(policy) }
        var resources: [String: JSONValue] = [:]
        if !workload.settings.requests.isEmpty { resources["requests"] = strings(workload.settings.requests) }
        if !workload.settings.limits.isEmpty { resources["limits"] = strings(workload.settings.limits) }
        if !resources.isEmpty { container["resources"] = .object(resources) }
        var spec: [String: JSONValue] = [
            "containers": [.object(container)],
            "readinessGates": [["conditionType": .string(KubernetesNames.servingCondition)]],
            "terminationGracePeriodSeconds": .int(seconds(run.stopGracePeriod)),
        ]
        if let account = workload.settings.serviceAccount { spec["serviceAccountName"] = .string(account) }
        return .object(spec)
    }

    private static func environment(of workload: KubernetesWorkload, version: String, run: RunSpec) -> [JSONValue] {
        let own = ["PORT", "SLIPWAY_APP", "SLIPWAY_VERSION", "SLIPWAY_POD", "POD_IP"]
        var variables: [JSONValue] = run.env.keys.sorted().filter { !own.contains($0) }.map {
            ["name": .string($0), "value": .string(run.env[$0] ?? "")]
        }
        variables += [
            ["name": "PORT", "value": .string(String(workload.port))],
            ["name": "SLIPWAY_APP", "value": .string(workload.app)],
            ["name": "SLIPWAY_VERSION", "value": .string(version)],
            ["name": "SLIPWAY_POD", "valueFrom": ["fieldRef": ["fieldPath": "metadata.name"]]],
            ["name": "POD_IP", "valueFrom": ["fieldRef": ["fieldPath": "status.podIP"]]],
        ]
        return variables
    }

    /// The health check as a readiness probe; Kubernetes counts in whole seconds, so each duration is rounded up.
    private static func readinessProbe(_ health: HealthCheckSpec) -> JSONValue {
        [
            "httpGet": ["path": .string(health.path), "port": "http", "scheme": "HTTP"],
            "periodSeconds": .int(seconds(health.interval)),
            "timeoutSeconds": .int(seconds(health.timeout)),
            "successThreshold": .int(health.healthyThreshold),
            "failureThreshold": .int(health.unhealthyThreshold),
        ]
    }

    /// Whole seconds, rounded up, at least 1.
    static func seconds(_ duration: Duration) -> Int {
        let (whole, fraction) = duration.components
        return max(1, Int(whole) + (fraction > 0 ? 1 : 0))
    }

    private static func strings(_ values: [String: String]) -> JSONValue {
        .object(values.mapValues { .string($0) })
    }
}
