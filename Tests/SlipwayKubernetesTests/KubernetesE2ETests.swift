import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayPlatform
import SlipwayTestSupport
import Testing

@testable import SlipwayKubernetes

/// The platform against a current, real cluster (a kind or k3s cluster in a user's CI), when
/// `SLIPWAY_E2E_KUBECONFIG` names its kubeconfig: real kubelets, real readiness probes and gates, real logs. The pods
/// run `SLIPWAY_E2E_IMAGE` (default `python:3.12-alpine`) serving `python3 -m http.server`; everything happens in a
/// namespace of its own, deleted at the end. Pod IPs need not be reachable from here: what the test checks, it checks
/// through the API.
@Suite("Kubernetes platform against a current cluster", .serialized)
struct KubernetesE2ETests {
    static let kubeconfig = ProcessInfo.processInfo.environment["SLIPWAY_E2E_KUBECONFIG"]

    @Test(
        .tags(.heavy),
        .enabled(
            if: kubeconfig != nil,
            "not run: no cluster (set SLIPWAY_E2E_KUBECONFIG to the kubeconfig of a kind or k3s cluster)"
        )
    )
    func instancesArePodsOnACurrentCluster() async throws {
        let client = try KubernetesClient(try Kubeconfig.credentials(file: Self.kubeconfig ?? ""))
        let namespace = "slipway-e2e-" + UUID().uuidString.prefix(8).lowercased()
        _ = try await client.apply(
            ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]],
            at: "/api/v1/namespaces/\(namespace)"
        )
        do {
            try await Self.exercise(client, namespace: namespace)
        } catch {
            try? await client.delete("/api/v1/namespaces/\(namespace)")
            await client.shutdown()
            throw error
        }
        try? await client.delete("/api/v1/namespaces/\(namespace)")
        await client.shutdown()
    }

    private static func exercise(_ client: KubernetesClient, namespace: String) async throws {
        let image = ProcessInfo.processInfo.environment["SLIPWAY_E2E_IMAGE"] ?? "python:3.12-alpine"
        let workload = KubernetesWorkload(
            app: "shop",
            settings: AppKubernetesSpec(namespace: namespace, image: image, startTimeout: .seconds(180)),
            health: HealthCheckSpec(path: "/", interval: .seconds(1))
        )
        // Bound to the pod's own address: as good as 0.0.0.0 in a pod, and it also runs in the test lab.
        let run = RunSpec(
            command: ["python3", "-m", "http.server", "{port}", "--bind", "$(POD_IP)"],
            stopGracePeriod: .seconds(5)
        )
        func request(_ number: Int) -> LaunchRequest {
            LaunchRequest(
                app: "shop",
                version: "v1",
                instance: InstanceID(app: "shop", number: number),
                run: run,
                logs: LogSpec(),
                baseDirectory: "/"
            )
        }
        let platform = KubernetesPlatform(client: client, workloads: [workload], watchTimeout: .seconds(60))
        let exits = ExitLog(platform.exits)
        async let first = platform.start(request(1))
        async let second = platform.start(request(2))
        let (one, two) = try await (first, second)
        let deployment =
            "/apis/apps/v1/namespaces/\(namespace)/deployments/"
            + KubernetesNames.releaseName(app: "shop", version: "v1")
        try await waitUntil("2 ready pods (the probe passes, the gate is set)", timeout: .seconds(120)) {
            (try await client.get(deployment))["status"]?["readyReplicas"]?.intValue == 2
        }
        await platform.stop(one.id)
        try await waitUntil("the exit of shop-1", timeout: .seconds(60)) { exits.ids.contains(one.id) }
        #expect(!exits.ids.contains(two.id))
        #expect((try await client.get(deployment))["spec"]?["replicas"] == 1)

        let again = KubernetesPlatform(client: client, workloads: [workload], watchTimeout: .seconds(60))
        let exitsAgain = ExitLog(again.exits)
        #expect(await again.reclaim(app: "shop", keeping: [two.id]) == Reclaimed(stopped: [], highestNumber: 2))
        let adopted = await again.adopt(two.id, version: "v1", reference: two.reference, host: two.host, port: two.port)
        #expect(adopted?.host == two.host)
        // The kubelet's own readiness probes are logged by the server.
        try await waitUntil("a probe in the pod's log", timeout: .seconds(30)) {
            await again.stderrTail(of: two.id, lines: 5).contains { $0.contains("GET / ") }
        }
        #expect(await again.signal(two.id, SIGKILL))
        try await waitUntil("the exit of shop-2", timeout: .seconds(60)) { exitsAgain.ids.contains(two.id) }
        try await KubernetesPlatformLabTests.oneControllerAtATime(client, namespace: namespace)
    }
}
