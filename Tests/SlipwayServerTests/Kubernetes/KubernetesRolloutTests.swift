import Foundation
import SlipwayCore
import SlipwayKubernetes
import SlipwayStore
import SlipwayTestSupport
import Testing

/// Releases of an app on Kubernetes (``KubernetesService``): a real `slipway up` against a real API server and its
/// controllers, pods run by the lab's kubelet, and steady load through the data plane on this machine.
@Suite("Rollouts on Kubernetes", .serialized)
struct KubernetesRolloutTests {
    private static func load(_ service: KubernetesService) -> LoadClient {
        LoadClient(port: service.port, rate: 250, threads: 8, path: "/index.html")
    }

    @Test(.tags(.heavy)) func aCanaryOfPodsIsPromotedWithoutAFailedRequestAndABadOneIsRolledBack() async throws {
        try await HeavyLoad.exclusive {
            try await KubeLab.with { lab in
                let service = try await KubernetesService(
                    lab: lab,
                    strategy: "canary:\n  steps:\n    - weight: 50\n    - pause: 3s"
                )
                try await service.running { service in
                    try await service.waitUntilServing(version: "1.0.0", instances: 2)
                    #expect(try await service.deployments() == ["1.0.0": 2])
                    // Each instance is a pod, at its own address.
                    let started = try service.events(.instanceStarted)
                    let addresses = Set(started.compactMap { $0.fields["address"]?.stringValue })
                    #expect(addresses.count == 2 && addresses.allSatisfy { $0.hasPrefix("127.77.") }, "\(addresses)")

                    var load = Self.load(service)
                    await load.waitFor(200)
                    let deploy = try await service.slipway(
                        ["deploy", "shop", "--version", "2.0.0", "--wait"],
                        seconds: 180
                    )
                    #expect(deploy.status == 0, "\(deploy.stdout)\(deploy.stderr)")
                    await load.waitFor(200)
                    await load.stop()
                    #expect(try service.status()?.rollout?.state == "promoted")
                    let total = load.all.count
                    let seconds = load.all.last?.at ?? 1
                    #expect(load.failed.isEmpty, "\(load.failed.count) of \(total) failed: \(load.failed.prefix(5))")
                    #expect(Double(total) / seconds >= 200, "\(total) requests in \(seconds)s")
                    #expect(!load.served(by: "1.0.0").isEmpty && !load.served(by: "2.0.0").isEmpty)
                    #expect(load.all.last?.version == "2.0.0")
                    // The old release's Deployment is gone with its last pod; the new one runs both.
                    try await waitUntil("only 2.0.0's Deployment is left", timeout: .seconds(30)) {
                        try await service.deployments() == ["2.0.0": 2]
                    }

                    // A release that fails its requests is rolled back, and its Deployment removed.
                    load = Self.load(service)
                    let bad = try await service.slipway(
                        ["deploy", "shop", "--version", "3.0.0", "--wait"],
                        seconds: 180
                    )
                    #expect(bad.status == 1, "\(bad.stdout)\(bad.stderr)")
                    #expect(try service.status()?.rollout?.state == "rolledBack")
                    let ended = Date().timeIntervalSince(load.began)
                    await load.waitFor(200)
                    await load.stop()
                    let after = load.all.filter { $0.at > ended + 0.5 }
                    #expect(!after.isEmpty && after.allSatisfy { $0.status == 200 && $0.version == "2.0.0" })
                    try await waitUntil("3.0.0's Deployment and pods are gone", timeout: .seconds(30)) {
                        let deployments = try await service.deployments()
                        let pods = try await service.pods()
                        return deployments == ["2.0.0": 2] && pods == ["2.0.0": 2]
                    }
                }
            }
        }
    }

    @Test(.tags(.heavy)) func aRolloutOfPodsCarriesOnWhenItsControllerIsKilledAndStartsAgain() async throws {
        try await HeavyLoad.exclusive {
            try await KubeLab.with { lab in
                let service = try await KubernetesService(
                    lab: lab,
                    strategy: "canary:\n  steps:\n    - weight: 50\n    - pause: {}"
                )
                try await service.running { service in
                    try await service.waitUntilServing(version: "1.0.0", instances: 2)
                    let load = Self.load(service)
                    await load.waitFor(200)
                    let deploy = try await service.slipway(["deploy", "shop", "--version", "2.0.0"])
                    #expect(deploy.status == 0, "\(deploy.stdout)\(deploy.stderr)")
                    try await waitUntil("the canary waits for a promote", timeout: .seconds(90)) {
                        try service.status()?.rollout?.stepDescription == "pause until promote"
                    }
                    let before = try await service.pods()

                    // Killed mid-rollout: the data plane and the pods go on serving.
                    service.killController()
                    let killed = Date().timeIntervalSince(load.began)
                    try await Task.sleep(for: .seconds(2))
                    #expect(load.all.filter { $0.at > killed }.allSatisfy { $0.status == 200 })

                    // The next controller takes the pods back by their labels, and the rollout carries on.
                    try service.startController()
                    try await waitUntil("the pods are adopted", timeout: .seconds(60)) {
                        try service.events(.instanceAdopted).count == before.values.reduce(0, +)
                    }
                    #expect(try await service.pods() == before)
                    let promote = try await service.slipway(["promote", "shop"])
                    #expect(promote.status == 0, "\(promote.stdout)\(promote.stderr)")
                    try await waitUntil("the rollout is promoted", timeout: .seconds(90)) {
                        try service.status()?.rollout?.state == "promoted"
                    }
                    await load.waitFor(200)
                    await load.stop()
                    #expect(
                        load.failed.isEmpty,
                        "\(load.failed.count) of \(load.all.count) failed: \(load.failed.prefix(5))"
                    )
                    #expect(load.all.last?.version == "2.0.0")
                    try await waitUntil("only 2.0.0's pods are left", timeout: .seconds(30)) {
                        let pods = try await service.pods()
                        let deployments = try await service.deployments()
                        return pods == ["2.0.0": 2] && deployments == ["2.0.0": 2]
                    }

                    // With no controller, `slipway down` stops the instances: their pods and Deployment go.
                    service.killController()
                    let down = try await service.slipway(["down"], seconds: 90)
                    #expect(down.status == 0, "\(down.stdout)\(down.stderr)")
                    #expect(down.stdout.components(separatedBy: "stopped shop-").count - 1 == 2, "\(down.stdout)")
                    let pods = try await service.pods()
                    let deployments = try await service.deployments()
                    #expect(pods.isEmpty && deployments.isEmpty, "\(pods) \(deployments)")
                }
            }
        }
    }

    @Test(.tags(.heavy)) func aControllerWhoseLeaseAnotherTakesStepsBackLeavingTheServiceRunning() async throws {
        try await HeavyLoad.exclusive {
            try await KubeLab.with { lab in
                let service = try await KubernetesService(lab: lab, strategy: "canary:\n  steps:\n    - weight: 50")
                try await service.running { service in
                    try await service.waitUntilServing(version: "1.0.0", instances: 2)
                    let load = Self.load(service)
                    await load.waitFor(200)
                    // Another controller (another machine's state) takes the lease, as one would once it expired.
                    let path =
                        "/apis/coordination.k8s.io/v1/namespaces/shop/leases/"
                        + KubernetesNames.leaseName(app: "shop")
                    let taken = Date()
                    try await waitUntil("the controller steps back", timeout: .seconds(30)) {
                        var lease = try await service.client.get(path)
                        guard case .object(var fields) = lease, case .object(var spec) = fields["spec"] ?? .null
                        else { return false }
                        spec["holderIdentity"] = "elsewhere:/srv/slipway/.slipway"
                        spec["renewTime"] = .string(KubernetesLease.microTime(Date()))
                        fields["spec"] = .object(spec)
                        lease = .object(fields)
                        _ = try? await service.client.replace(lease, at: path)
                        try await Task.sleep(for: .milliseconds(500))
                        return !service.isControllerRunning
                    }
                    #expect(Date().timeIntervalSince(taken) < 15)
                    #expect(
                        service.controllerLog.contains("another controller took the lease"),
                        "\(service.controllerLog)"
                    )
                    // The pods and the data plane go on serving.
                    let stepped = Date().timeIntervalSince(load.began)
                    try await Task.sleep(for: .seconds(2))
                    await load.stop()
                    let after = load.all.filter { $0.at > stepped }
                    #expect(after.count > 200 && after.allSatisfy { $0.status == 200 }, "\(after.count)")
                    #expect(try await service.pods() == ["1.0.0": 2])
                    // What it left serving is stopped by `slipway down`, as after any controller that stopped alone.
                    let down = try await service.slipway(["down"], seconds: 90)
                    #expect(down.status == 0, "\(down.stdout)\(down.stderr)")
                    #expect(down.stdout.contains("stopped the data plane"), "\(down.stdout)")
                }
            }
        }
    }
}
