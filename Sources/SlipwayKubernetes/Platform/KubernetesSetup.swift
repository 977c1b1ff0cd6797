import Foundation
import SlipwayConfig

/// The Kubernetes platform of a configuration: the cluster reached as `kubernetes` says, running every app with
/// `platform: kubernetes`.
public enum KubernetesSetup {
    /// The place name of the cluster among an app's places (not a valid host name).
    public static let place = "Kubernetes cluster"

    /// The platform of `config`'s apps on Kubernetes; nil when none runs there. Throws when the cluster's credentials
    /// cannot be read.
    public static func platform(
        for config: SlipwayConfig,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(KubernetesSetupError) -> KubernetesPlatform? {
        let workloads = config.apps.compactMap(KubernetesWorkload.init(app:))
        guard !workloads.isEmpty else { return nil }
        let credentials = try self.credentials(config.kubernetes ?? ClusterSpec(), environment: environment)
        do {
            return KubernetesPlatform(client: try KubernetesClient(credentials), workloads: workloads)
        } catch {
            throw KubernetesSetupError(description: "cannot use the credentials of \(credentials.origin): \(error)")
        }
    }

    /// The credentials `cluster` names: the pod's ServiceAccount in the cluster, else a kubeconfig (`kubeconfig`,
    /// else the first file of `$KUBECONFIG`, else `~/.kube/config`) and its `context` or current context.
    public static func credentials(
        _ cluster: ClusterSpec,
        environment: [String: String]
    ) throws(KubernetesSetupError) -> KubernetesCredentials {
        // The controller a cluster runs from `slipway kubernetes manifests` uses its pod's ServiceAccount, whatever
        // the file says for controllers outside.
        if cluster.inCluster || environment[InstallManifests.inClusterVariable] == "true" {
            guard let credentials = KubernetesCredentials.inCluster(environment: environment) else {
                throw KubernetesSetupError(
                    description: "`kubernetes.inCluster` is set, but this is not a pod with a ServiceAccount: "
                        + "KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT or "
                        + "\(KubernetesCredentials.serviceAccountFolder)/token and ca.crt are missing"
                )
            }
            return credentials
        }
        let file =
            cluster.kubeconfig
            ?? environment["KUBECONFIG"].flatMap { $0.split(separator: ":").first.map(String.init) }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.kube/config")
        do {
            return try Kubeconfig.credentials(file: file, context: cluster.context)
        } catch {
            throw KubernetesSetupError(description: "\(error)")
        }
    }
}

/// The cluster cannot be used as configured.
public struct KubernetesSetupError: Error, Sendable, CustomStringConvertible {
    /// What is wrong, and where.
    public var description: String
}
