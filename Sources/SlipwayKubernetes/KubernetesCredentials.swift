import Foundation

/// How the controller reaches a Kubernetes API server: its URL, the CA its serving certificate is checked against,
/// and who the controller is there (a bearer token, or a client certificate and key).
public struct KubernetesCredentials: Sendable, Equatable {
    /// The server, like `https://127.0.0.1:6443`.
    public var server: String
    /// The PEM of the CA(s) that sign the server's certificate; nil: the system's trust store.
    public var certificateAuthority: String?
    /// A bearer token.
    public var token: String?
    /// A client certificate and its private key, both PEM.
    public var clientCertificate: String?
    public var clientKey: String?
    /// Where these came from, for messages: `kubeconfig ~/.kube/config, context lab`.
    public var origin: String

    /// Credentials as given.
    public init(
        server: String,
        certificateAuthority: String? = nil,
        token: String? = nil,
        clientCertificate: String? = nil,
        clientKey: String? = nil,
        origin: String
    ) {
        self.server = server
        self.certificateAuthority = certificateAuthority
        self.token = token
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.origin = origin
    }

    /// The folder a pod's service account is mounted at.
    public static let serviceAccountFolder = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The pod's own service account, when the controller runs in the cluster (`KUBERNETES_SERVICE_HOST` and
    /// `KUBERNETES_SERVICE_PORT` set, the token and CA mounted); nil otherwise.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        folder: String = serviceAccountFolder
    ) -> KubernetesCredentials? {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], let port = environment["KUBERNETES_SERVICE_PORT"],
            let token = try? String(contentsOfFile: folder + "/token", encoding: .utf8),
            let authority = try? String(contentsOfFile: folder + "/ca.crt", encoding: .utf8)
        else { return nil }
        let address = host.contains(":") ? "[\(host)]" : host
        return KubernetesCredentials(
            server: "https://\(address):\(port)",
            certificateAuthority: authority,
            token: token.trimmingCharacters(in: .whitespacesAndNewlines),
            origin: "the pod's service account"
        )
    }
}
