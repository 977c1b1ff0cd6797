import Foundation
import SlipwayCore
import SlipwayKubernetes
import SlipwayStore
import SlipwayTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// An app `shop` with `platform: kubernetes` on a ``KubeLab``, run by a real `slipway up` on this machine: each
/// release a Deployment whose pods the lab's kubelet runs as `python3 -m http.server` processes serving
/// `{"version":"V"}` at `/index.html` (and a `/healthz`), each on its pod's own loopback address; the data plane on
/// this machine routes to the pods. Version 3.0.0 is broken: `Tests/Fixtures/flaky-server.py` answers 500 to every
/// `/index.html` and passes its health checks. The teardown stops the controller however the test ended; the lab
/// stops the pods.
final class KubernetesService: ServiceDirectory, @unchecked Sendable {
    let lab: KubeLab
    let directory: String
    let api: Int
    let port: Int
    let client: KubernetesClient
    private let controllers: ControllerRuns

    /// Writes `slipway.yaml`: `shop` on the lab in namespace `shop` (created here), `instances` pods, with
    /// `strategy` (YAML under `strategy:`).
    init(lab: KubeLab, strategy: String, instances: Int = 2) async throws {
        self.lab = lab
        client = try KubernetesClient(try Kubeconfig.credentials(file: lab.kubeconfig))
        _ = try await client.apply(
            ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "shop"]],
            at: "/api/v1/namespaces/shop"
        )
        directory = try makeTemporaryDirectory("slipway-kubernetes")
        controllers = ControllerRuns(directory: directory)
        api = try LoopbackHTTP.freePort()
        port = try LoopbackHTTP.freePort()
        let site = directory + "/site"
        for version in ["1.0.0", "2.0.0"] {
            try FileManager.default.createDirectory(atPath: "\(site)/\(version)", withIntermediateDirectories: true)
            try "{\"version\":\"\(version)\"}".write(
                toFile: "\(site)/\(version)/index.html",
                atomically: true,
                encoding: .utf8
            )
            try "ok\n".write(toFile: "\(site)/\(version)/healthz", atomically: true, encoding: .utf8)
        }
        // The pod's command: its version, its port and its own address.
        let serve = directory + "/serve.sh"
        try """
        #!/bin/sh
        if [ "$1" = 3.0.0 ]; then
          FLAKY_BIND="$3" FLAKY_FAIL_PATH=/index.html exec python3 \(Fixtures.path("flaky-server.py")) "$2" \\
            \(directory)/no-such-flag
        fi
        exec python3 -m http.server "$2" --bind "$3" --directory "\(site)/$1"
        """.write(toFile: serve, atomically: true, encoding: .utf8)
        chmod(serve, 0o755)
        let yaml = """
            controller:
              api: 127.0.0.1:\(api)
              stateDir: state
            kubernetes:
              kubeconfig: \(lab.kubeconfig)
            apps:
              - name: shop
                listen: 127.0.0.1:\(port)
                platform: kubernetes
                kubernetes:
                  image: "registry.example/shop:{version}"
                  namespace: shop
                  startTimeout: 60s
                instances: \(instances)
                version: "1.0.0"
                run:
                  command: [\(serve), "{version}", "{port}", "$(POD_IP)"]
                  stopGracePeriod: 3s
                health:
                  path: /healthz
                  interval: 500ms
                  timeout: 400ms
                  healthyThreshold: 1
                  unhealthyThreshold: 3
                  startDeadline: 30s
                strategy:
            \(strategy.indented(6))
                analysis:
                  interval: 500ms
                  minRequests: 10
                  checks: ["successRate >= 99%"]
                  failFast: ["successRate >= 95%"]
            """
        try yaml.write(toFile: directory + "/slipway.yaml", atomically: true, encoding: .utf8)
    }

    /// Starts `slipway up` (it attaches to what runs, or starts it).
    func startController() throws { try controllers.start() }

    /// `kill -9` of the running controller; returns once it is gone.
    func killController() { controllers.kill() }

    /// What the controllers wrote.
    var controllerLog: String { controllers.log }

    /// Whether the last controller started still runs.
    var isControllerRunning: Bool { controllers.isRunning }

    /// The pods of `shop` in the cluster that are not being deleted, by version (from their annotation).
    func pods() async throws -> [String: Int] {
        let listed = try await client.list("/api/v1/namespaces/shop/pods")
        var counts: [String: Int] = [:]
        for pod in listed.items where pod.metadata?["deletionTimestamp"] == nil {
            let version = pod.metadata?["annotations"]?[KubernetesNames.versionAnnotation]?.stringValue ?? "?"
            counts[version, default: 0] += 1
        }
        return counts
    }

    /// The Deployments of `shop`, by the version they run, with their replicas.
    func deployments() async throws -> [String: Int] {
        let listed = try await client.list("/apis/apps/v1/namespaces/shop/deployments")
        var replicas: [String: Int] = [:]
        for deployment in listed.items {
            let version =
                deployment.metadata?["annotations"]?[KubernetesNames.versionAnnotation]?.stringValue ?? "?"
            replicas[version] = deployment["spec"]?["replicas"]?.intValue ?? 0
        }
        return replicas
    }

    /// Waits until `instances` instances are healthy and the listener answers with `version`.
    func waitUntilServing(version: String, instances: Int) async throws {
        try await waitUntil("\(instances) healthy instances", timeout: .seconds(90)) {
            guard controllers.isRunning else { throw HostsService.ControllerEnded() }
            return try status()?.healthyCount == instances
        }
        try await waitUntil("the listener serves \(version)", timeout: .seconds(30)) {
            let reply = try? LoopbackHTTP.get(port: port, path: "/index.html", timeout: .seconds(2))
            return reply?.status == 200 && reply?.body.contains("\"version\":\"\(version)\"") == true
        }
    }

    /// Runs `body` with the controller started, then stops everything however it ended.
    func running(_ body: (KubernetesService) async throws -> Void) async throws {
        do {
            try startController()
            try await body(self)
        } catch {
            await tearDown()
            throw HostsService.CaughtWithLog(
                error: error,
                log: controllerLog + "\n--- kubelet ---\n"
                    + lab.log(of: "kubelet")
            )
        }
        await tearDown()
    }

    /// SIGTERM to the controller (the pods stay: the lab's teardown stops them), SIGKILL to a data plane a
    /// controller that stopped alone left running, then closes the client.
    func tearDown() async {
        await controllers.terminate()
        if let text = try? String(contentsOfFile: directory + "/state/dataplane.pid", encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0,
            let command = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
            command.contains("slipway-dataplane")
        {
            kill(pid, SIGKILL)
        }
        await client.shutdown()
    }
}
