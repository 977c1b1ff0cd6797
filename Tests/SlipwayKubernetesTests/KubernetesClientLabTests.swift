import Foundation
import SlipwayCore
import SlipwayTestSupport
import Synchronization
import Testing

@testable import SlipwayKubernetes

/// The client against a real Kubernetes API server and its real controllers (``KubeLab``, v1.20.2): discovery,
/// server-side apply and its conflicts, the deployment, replica-set and garbage-collection controllers at work, a
/// watch from a list's version, and a watch from a version the restarted server no longer keeps.
@Suite("Kubernetes client against a real API server", .serialized)
struct KubernetesClientLabTests {
    static func json(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    static func deployment(replicas: Int) throws -> JSONValue {
        try json(
            """
            {"apiVersion": "apps/v1", "kind": "Deployment",
             "metadata": {"name": "shop-1-0-0", "namespace": "lab",
                          "labels": {"app.kubernetes.io/name": "shop", "slipway.dev/version": "1.0.0"}},
             "spec": {"replicas": \(replicas),
                      "selector": {"matchLabels": {"app.kubernetes.io/name": "shop", "slipway.dev/version": "1.0.0"}},
                      "template": {"metadata": {"labels": {"app.kubernetes.io/name": "shop",
                                                           "slipway.dev/version": "1.0.0"}},
                                   "spec": {"containers": [{"name": "shop", "image": "shop:1.0.0",
                                                            "command": ["python3", "-m", "http.server", "8000",
                                                                        "--bind", "$(POD_IP)"],
                                                            "env": [{"name": "POD_IP", "valueFrom":
                                                                     {"fieldRef": {"fieldPath": "status.podIP"}}}]}]}}}}
            """
        )
    }

    static let deploymentPath = "/apis/apps/v1/namespaces/lab/deployments/shop-1-0-0"
    static let pods = "/api/v1/namespaces/lab/pods?labelSelector=app.kubernetes.io%2Fname%3Dshop"

    @Test(.tags(.heavy)) func applyListWatchAndExpiryAgainstARealAPIServer() async throws {
        try await HeavyLoad.exclusive { try await Self.withLab(Self.exercise) }
    }

    @Test(.tags(.heavy)) func anInformerMissesNothingAcrossAnAPIServerRestart() async throws {
        try await HeavyLoad.exclusive { try await Self.withLab(Self.follow) }
    }

    private static func withLab(
        _ body: @escaping (KubernetesClient, KubeLab) async throws -> Void
    ) async throws {
        try await KubeLab.with { lab in
            // As a user would: the lab's kubeconfig (its CA as a file, a bearer token).
            let credentials = try Kubeconfig.credentials(file: lab.kubeconfig)
            #expect(credentials.server == lab.server && credentials.token == lab.token)
            let client = try KubernetesClient(credentials)
            do {
                try await body(client, lab)
            } catch {
                await client.shutdown()
                throw KubeLabFailure(error: error, log: lab.log(of: "kube-controller-manager"))
            }
            await client.shutdown()
        }
    }

    private static func exercise(_ client: KubernetesClient, _ lab: KubeLab) async throws {
        // Discovery: 1.20 serves EndpointSlices as v1beta1 only.
        #expect(try await client.versions(ofGroup: "discovery.k8s.io") == ["v1beta1"])
        #expect(try await client.versions(ofGroup: "apps").contains("v1"))
        #expect(try await client.versions(ofGroup: "gateway.networking.k8s.io").isEmpty)

        _ = try await client.apply(
            try json(#"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "lab"}}"#),
            at: "/api/v1/namespaces/lab"
        )
        let applied = try await client.apply(try deployment(replicas: 2), at: deploymentPath)
        #expect(applied["spec"]?["replicas"] == .int(2))
        guard case .array(let managers) = applied.metadata?["managedFields"] ?? .null else {
            Issue.record("no managedFields: \(applied)")
            return
        }
        #expect(managers.contains { $0["manager"] == "slipway" && $0["operation"] == "Apply" })

        // The real controllers make a ReplicaSet, then its pods (bound and run by the lab's kubelet).
        var listed: (items: [JSONValue], resourceVersion: String) = ([], "")
        try await waitUntil("two pods of the deployment", timeout: .seconds(30)) {
            listed = try await client.list(pods)
            return listed.items.count == 2
        }
        let owner = listed.items.first?.metadata?["ownerReferences"]
        #expect(owner.map { "\($0)" }?.contains("ReplicaSet") == true, "\(String(describing: owner))")

        // Someone else changes a field Slipway applied: an apply without force is refused, with the cause; with
        // force, Slipway's value stands.
        _ = try await client.mergePatch(try json(#"{"spec": {"replicas": 1}}"#), at: deploymentPath)
        await #expect {
            _ = try await client.apply(try deployment(replicas: 3), at: deploymentPath, force: false)
        } throws: { error in
            guard let error = error as? KubernetesError else { return false }
            return error.isConflict && error.causes.contains("FieldManagerConflict")
        }
        let forced = try await client.apply(try deployment(replicas: 3), at: deploymentPath)
        #expect(forced["spec"]?["replicas"] == .int(3))

        // A watch from the list's version sees the third pod added.
        var added: [String] = []
        for try await event in client.watch(pods, from: listed.resourceVersion, timeout: .seconds(20)) {
            if event.kind == .added, let name = event.object.metadata?["name"]?.stringValue { added.append(name) }
            if added.count >= 1 { break }
        }
        #expect(added.count == 1, "\(added)")

        // After a restart, the server keeps no version older than its own start: a watch from one ends with 410.
        try await lab.restartAPIServer()
        await #expect {
            for try await _ in client.watch(pods, from: listed.resourceVersion, timeout: .seconds(20)) {}
        } throws: { error in
            (error as? KubernetesError)?.isExpired == true
        }
        // Listing again gives a version to watch from. (The pod the scale to 1 removed may still be ending.)
        let fresh = try await client.list(pods)
        let live = fresh.items.filter { $0.metadata?["deletionTimestamp"] == nil }
        #expect(live.count == 3 && fresh.resourceVersion != listed.resourceVersion, "\(fresh.items)")

        // Deleting the deployment lets the garbage collector remove its ReplicaSet and pods.
        try await client.delete(deploymentPath)
        try await client.delete(deploymentPath)
        try await waitUntil("the pods are collected", timeout: .seconds(60)) {
            try await client.list(pods).items.isEmpty
        }
        await #expect {
            _ = try await client.get(deploymentPath)
        } throws: { error in
            (error as? KubernetesError)?.isNotFound == true
        }
    }
}

extension KubernetesClientLabTests {
    /// What an informer knows: the pods by uid, and every uid it was told was added.
    final class View: Sendable {
        let pods = Mutex<[String: String]>([:])
        let added = Mutex<Set<String>>([])
        let listedFirst = Mutex<Bool?>(nil)

        func apply(_ event: InformerEvent) {
            func uid(_ object: JSONValue) -> String { object.metadata?["uid"]?.stringValue ?? "?" }
            func name(_ object: JSONValue) -> String { object.metadata?["name"]?.stringValue ?? "?" }
            listedFirst.withLock { if $0 == nil { $0 = { if case .listed = event { true } else { false } }() } }
            switch event {
            case .listed(let items):
                pods.withLock { pods in for item in items { pods[uid(item)] = name(item) } }
                added.withLock { $0.formUnion(items.map(uid)) }
            case .added(let item), .modified(let item):
                pods.withLock { $0[uid(item)] = name(item) }
                added.withLock { _ = $0.insert(uid(item)) }
            case .deleted(let item):
                pods.withLock { $0[uid(item)] = nil }
            }
        }
    }

    /// An informer of the pods follows a deployment scaled up across an API server restart, then down: what it
    /// knows is what the server lists, every time.
    static func follow(_ client: KubernetesClient, _ lab: KubeLab) async throws {
        _ = try await client.apply(
            try json(#"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "lab"}}"#),
            at: "/api/v1/namespaces/lab"
        )
        _ = try await client.apply(try deployment(replicas: 2), at: deploymentPath)
        let view = View()
        let informer = KubernetesInformer(client: client, path: pods, watchTimeout: .seconds(30))
        let following = Task {
            for await event in informer.events() { view.apply(event) }
        }
        defer { following.cancel() }
        let matchesServer = { () async throws -> Bool in
            let listed = try await client.list(pods).items
            let names = Dictionary(
                uniqueKeysWithValues: listed.map {
                    ($0.metadata?["uid"]?.stringValue ?? "?", $0.metadata?["name"]?.stringValue ?? "?")
                }
            )
            return view.pods.withLock { $0 } == names
        }
        try await waitUntil("the informer knows 2 pods", timeout: .seconds(30)) {
            guard view.pods.withLock({ $0.count }) == 2 else { return false }
            return try await matchesServer()
        }
        #expect(view.listedFirst.withLock { $0 } == true)

        // The server goes away and comes back with a new watch cache; the deployment grows meanwhile.
        try await lab.restartAPIServer()
        _ = try await client.apply(try deployment(replicas: 4), at: deploymentPath)
        try await waitUntil("the informer knows the 4 pods the server lists", timeout: .seconds(60)) {
            guard view.pods.withLock({ $0.count }) == 4 else { return false }
            return try await matchesServer()
        }
        _ = try await client.apply(try deployment(replicas: 1), at: deploymentPath)
        try await waitUntil("the informer knows the 1 pod the server lists", timeout: .seconds(60)) {
            guard view.pods.withLock({ $0.count }) == 1 else { return false }
            return try await matchesServer()
        }
        #expect(view.added.withLock { $0.count } == 4)
    }
}

/// A lab test failed; the last lines of a lab component say what it did.
struct KubeLabFailure: Error, CustomStringConvertible {
    var error: any Error
    var component = "kube-controller-manager"
    var log: String

    init(error: any Error, component: String = "kube-controller-manager", log: String) {
        self.error = error
        self.component = component
        self.log = log
    }

    var description: String { "\(error)\n--- \(component) ---\n\(log)" }
}
