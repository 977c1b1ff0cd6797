import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayPlatform
import SlipwayTestSupport
import Synchronization
import Testing

@testable import SlipwayKubernetes

/// The platform against a real API server and its real Deployment, ReplicaSet, EndpointSlice and garbage-collection
/// controllers, with the lab's kubelet running each pod's command as a process of this machine: instances that are
/// real `python3 -m http.server` processes, started, served, stopped one by one, taken back by a second platform (a
/// controller that started again), killed, and read from through the API's log endpoint.
@Suite("Kubernetes platform against a real API server", .serialized)
struct KubernetesPlatformLabTests {
    static let namespace = "shop"
    static let workload = KubernetesWorkload(
        app: "shop",
        settings: AppKubernetesSpec(namespace: namespace, image: "python:3-slim", startTimeout: .seconds(60)),
        health: HealthCheckSpec(path: "/", interval: .seconds(1))
    )
    /// Each pod has a loopback address of its own in the lab, and must serve on it.
    static let run = RunSpec(
        command: ["python3", "-m", "http.server", "{port}", "--bind", "$(POD_IP)"],
        stopGracePeriod: .seconds(5)
    )

    static func request(_ version: String, _ number: Int) -> LaunchRequest {
        LaunchRequest(
            app: "shop",
            version: version,
            instance: InstanceID(app: "shop", number: number),
            run: run,
            logs: LogSpec(),
            baseDirectory: "/"
        )
    }

    @Test(.tags(.heavy)) func instancesArePodsOfADeploymentPerRelease() async throws {
        try await HeavyLoad.exclusive {
            try await KubeLab.with { lab in
                let client = try KubernetesClient(try Kubeconfig.credentials(file: lab.kubeconfig))
                do {
                    try await Self.exercise(client)
                    try await Self.oneControllerAtATime(client)
                } catch {
                    await client.shutdown()
                    throw KubeLabFailure(error: error, component: "kubelet", log: lab.log(of: "kubelet"))
                }
                await client.shutdown()
            }
        }
    }

    /// The status of `GET /` on the instance, once it accepts connections (a start returns once it runs).
    private static func answer(_ handle: InstanceHandle) async throws -> Int {
        try await waitUntil("\(handle.id) accepts connections") {
            LoopbackHTTP.isAccepting(host: handle.host, port: handle.port)
        }
        return try LoopbackHTTP.get(port: handle.port, path: "/", host: handle.host).status
    }

    private static func exercise(_ client: KubernetesClient) async throws {
        _ = try await client.apply(
            ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]],
            at: "/api/v1/namespaces/\(namespace)"
        )
        let platform = KubernetesPlatform(client: client, workloads: [workload], watchTimeout: .seconds(20))
        let exits = ExitLog(platform.exits)

        // Two instances at once: two pods of one Deployment, each a real server on its own address.
        async let first = platform.start(request("v1", 1))
        async let second = platform.start(request("v1", 2))
        let (one, two) = try await (first, second)
        #expect(one.host != two.host && one.port == 8080 && one.reference != two.reference)
        for handle in [one, two] { #expect(try await answer(handle) == 200) }
        let deployment =
            "/apis/apps/v1/namespaces/\(namespace)/deployments/"
            + KubernetesNames.releaseName(app: "shop", version: "v1")
        // Taken and serving: both pods Ready, so the Deployment and its Service's endpoints count them.
        try await waitUntil("the Deployment has 2 ready pods", timeout: .seconds(30)) {
            (try await client.get(deployment))["status"]?["readyReplicas"]?.intValue == 2
        }

        // Stopping one removes that pod, and only that one, and lowers the Deployment's count.
        await platform.stop(one.id)
        try await waitUntil("the exit of shop-1") { exits.ids.contains(one.id) }
        #expect(!LoopbackHTTP.isAccepting(host: one.host, port: one.port))
        #expect(try await answer(two) == 200)
        #expect((try await client.get(deployment))["spec"]?["replicas"] == 1)
        #expect(!exits.ids.contains(two.id))

        // Another release is another Deployment.
        let three = try await platform.start(request("v2", 3))
        #expect(try await answer(three) == 200)

        // A controller that starts again knows only shop-2 from its log: shop-3 is reclaimed, shop-2 taken back.
        let again = KubernetesPlatform(client: client, workloads: [workload], watchTimeout: .seconds(20))
        let exitsAgain = ExitLog(again.exits)
        let reclaimed = await again.reclaim(app: "shop", keeping: [two.id])
        #expect(reclaimed == Reclaimed(stopped: [three.id], highestNumber: 3))
        let adopted = try #require(
            await again.adopt(two.id, version: "v1", reference: two.reference, host: two.host, port: two.port)
        )
        #expect(adopted.host == two.host && adopted.reference == two.reference)
        let v2 =
            "/apis/apps/v1/namespaces/\(namespace)/deployments/"
            + KubernetesNames.releaseName(app: "shop", version: "v2")
        try await waitUntil("the v2 Deployment is gone", timeout: .seconds(30)) {
            do {
                _ = try await client.get(v2)
                return false
            } catch let error as KubernetesError where error.isNotFound {
                return true
            }
        }
        try await waitUntil("shop-3's server is gone", timeout: .seconds(30)) {
            !LoopbackHTTP.isAccepting(host: three.host, port: three.port)
        }

        // Its log, through the API (python's http.server logs each request on standard error).
        _ = try LoopbackHTTP.get(port: two.port, path: "/logged", host: two.host)
        try await waitUntil("the request in the pod's log") {
            await again.stderrTail(of: two.id, lines: 5).contains { $0.contains("GET /logged") }
        }

        // Killed: its pod goes at once and its exit is reported; the ReplicaSet's replacement is the next start's.
        #expect(await again.signal(two.id, SIGKILL))
        try await waitUntil("the exit of shop-2", timeout: .seconds(30)) { exitsAgain.ids.contains(two.id) }
        let four = try await again.start(request("v1", 4))
        #expect(try await answer(four) == 200)
        try await waitUntil("the Deployment has 1 ready pod", timeout: .seconds(30)) {
            let status = (try await client.get(deployment))["status"]
            return status?["readyReplicas"]?.intValue == 1 && status?["replicas"]?.intValue == 1
        }
        await again.stop(four.id)
        try await waitUntil("the exit of shop-4") { exitsAgain.ids.contains(four.id) }
    }
}

extension KubernetesPlatformLabTests {
    /// Two controllers with different state directories: the second waits for the first's lease, and takes it only
    /// once it is given up; the first then knows it lost it. The same one starting again takes its lease at once.
    static func oneControllerAtATime(_ client: KubernetesClient, namespace: String = namespace) async throws {
        let first = KubernetesLease(client: client, namespace: namespace, app: "shop", identity: "a:/srv/one")
        let second = KubernetesLease(client: client, namespace: namespace, app: "shop", identity: "b:/srv/two")
        #expect(try await first.acquire(patience: .seconds(1)) == nil)
        let started = ContinuousClock.now
        let holder = try await second.acquire(patience: .seconds(2))
        #expect(holder?.identity == "a:/srv/one", "\(String(describing: holder))")
        #expect(ContinuousClock.now - started >= .seconds(2))
        #expect(try await first.renew())
        let again = KubernetesLease(client: client, namespace: namespace, app: "shop", identity: "a:/srv/one")
        #expect(try await again.acquire(patience: .zero) == nil)
        await first.release()
        #expect(try await second.acquire(patience: .seconds(1)) == nil)
        #expect(try await first.renew() == false)
        let stored = try await client.get(
            "/apis/coordination.k8s.io/v1/namespaces/\(namespace)/leases/\(KubernetesNames.leaseName(app: "shop"))"
        )
        #expect(stored["spec"]?["holderIdentity"] == "b:/srv/two")
        // A lease nobody renewed for its duration is free.
        let short = KubernetesLease(
            client: client,
            namespace: namespace,
            app: "cart",
            identity: "a:/srv/one",
            duration: .seconds(1)
        )
        #expect(try await short.acquire(patience: .zero) == nil)
        try await Task.sleep(for: .milliseconds(1500))
        let other = KubernetesLease(client: client, namespace: namespace, app: "cart", identity: "b:/srv/two")
        #expect(try await other.acquire(patience: .zero) == nil)
    }
}

/// The exits a platform reports, as they come.
final class ExitLog: Sendable {
    private final class Seen: Sendable {
        let exits = Mutex<[InstanceExit]>([])
    }

    private let seen = Seen()
    private let reader: Task<Void, Never>

    init(_ exits: AsyncStream<InstanceExit>) {
        let seen = self.seen
        reader = Task {
            for await exit in exits { seen.exits.withLock { $0.append(exit) } }
        }
    }

    deinit { reader.cancel() }

    var ids: [InstanceID] { seen.exits.withLock { $0.map(\.id) } }
}
