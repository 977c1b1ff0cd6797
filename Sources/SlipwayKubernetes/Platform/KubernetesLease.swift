import Foundation
import SlipwayCore

/// One controller at a time for an app on Kubernetes: a `coordination.k8s.io/v1` Lease in the app's namespace,
/// held by the controller that manages the app and renewed while it runs.
///
/// The holder is named by the controller's machine and state directory, so a controller that starts again over the
/// same state (after a crash, or an upgrade) takes its lease back at once; any other waits until the holder has not
/// renewed it for ``duration``. Every change goes through the Lease's `resourceVersion`, so two controllers that try
/// at once cannot both win.
public struct KubernetesLease: Sendable {
    /// The client.
    public let client: KubernetesClient
    /// The namespace of the Lease.
    public let namespace: String
    /// The Lease's name.
    public let name: String
    /// Who holds it: this controller's machine and state directory.
    public let identity: String
    /// How long a lease lasts without being renewed.
    public let duration: Duration

    /// The lease of `app` in `namespace`, held as `identity`.
    public init(
        client: KubernetesClient,
        namespace: String,
        app: String,
        identity: String,
        duration: Duration = .seconds(15)
    ) {
        self.client = client
        self.namespace = namespace
        self.name = KubernetesNames.leaseName(app: app)
        self.identity = identity
        self.duration = duration
    }

    /// What holds the lease now.
    public struct Holder: Sendable, Equatable, CustomStringConvertible {
        /// Its identity.
        public var identity: String
        /// When it last renewed the lease.
        public var renewed: Date?
        /// How long the lease lasts without being renewed, as its holder set it.
        public var seconds: Int?

        /// Whether it still holds: it renewed the lease less than its duration ago.
        var isCurrent: Bool {
            guard !identity.isEmpty, let renewed, let seconds else { return false }
            return Date().timeIntervalSince(renewed) < Double(seconds)
        }

        public var description: String {
            let age = renewed.map { " (renewed \(Int(Date().timeIntervalSince($0)))s ago)" } ?? ""
            return identity + age
        }
    }

    /// Takes the lease: at once when it is free, expired or already this controller's; else waits, for at most
    /// `patience`, for its holder to stop renewing it. Returns nil once it is held, or the holder that kept it.
    public func acquire(patience: Duration) async throws(KubernetesError) -> Holder? {
        let deadline = ContinuousClock.now + patience
        while true {
            let (current, version) = try await read()
            if let current, current.identity != identity, current.isCurrent {
                guard ContinuousClock.now < deadline else { return current }
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            do {
                try await write(holder: identity, version: version)
                return nil
            } catch  where error.isConflict {
                // Another controller wrote it in between: read it again.
                continue
            }
        }
    }

    /// Renews the lease; false when another controller holds it now.
    public func renew() async throws(KubernetesError) -> Bool {
        let (current, version) = try await read()
        guard current == nil || current?.identity == identity || current?.identity == "" else { return false }
        do {
            try await write(holder: identity, version: version)
            return true
        } catch  where error.isConflict {
            return false
        }
    }

    /// Gives the lease up, when this controller still holds it, so that another may take it at once.
    public func release() async {
        guard let (current, version) = try? await read(), current?.identity == identity else { return }
        try? await write(holder: "", version: version)
    }

    private var path: String { "/apis/coordination.k8s.io/v1/namespaces/\(namespace)/leases/\(name)" }

    private func read() async throws(KubernetesError) -> (Holder?, String?) {
        let lease: JSONValue
        do {
            lease = try await client.get(path)
        } catch  where error.isNotFound {
            return (nil, nil)
        }
        let spec = lease["spec"]
        let holder = spec?["holderIdentity"]?.stringValue ?? ""
        let renewed = spec?["renewTime"]?.stringValue.flatMap { try? Date($0, strategy: .iso8601) }
        let seconds = spec?["leaseDurationSeconds"]?.intValue
        return (
            Holder(identity: holder, renewed: renewed, seconds: seconds),
            lease.metadata?["resourceVersion"]?.stringValue
        )
    }

    /// Writes the holder: creates the Lease when there is none (`version` nil), else replaces its spec as of
    /// `version` (a 409 when it changed since).
    private func write(holder: String, version: String?) async throws(KubernetesError) {
        let now = Self.microTime(Date())
        var spec: [String: JSONValue] = [
            "holderIdentity": .string(holder),
            "leaseDurationSeconds": .int(max(1, Int(duration.components.seconds))),
        ]
        if !holder.isEmpty {
            spec["renewTime"] = .string(now)
            spec["acquireTime"] = .string(now)
        }
        var metadata: [String: JSONValue] = [
            "name": .string(name),
            "namespace": .string(namespace),
            "labels": [KubernetesNames.managedByLabel: .string(KubernetesNames.managedBy)],
        ]
        if let version { metadata["resourceVersion"] = .string(version) }
        let lease: JSONValue = [
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": .object(metadata),
            "spec": .object(spec),
        ]
        if version == nil {
            _ = try await client.create(lease, in: "/apis/coordination.k8s.io/v1/namespaces/\(namespace)/leases")
        } else {
            _ = try await client.replace(lease, at: path)
        }
    }

    /// A Kubernetes `MicroTime`: RFC 3339 with microseconds.
    public static func microTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'"
        return formatter.string(from: date)
    }
}
