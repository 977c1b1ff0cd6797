import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayTestSupport
import Testing

@testable import SlipwayKubernetes

/// The names, labels and Deployment of a release, and their validity against current Kubernetes schemas.
@Suite("Release manifests for Kubernetes")
struct ReleaseManifestTests {
    @Test func namesAreValidKubernetesNamesAndNeverShared() {
        // A version whose dots had to go keeps a hash of itself: 1.4.0 and 1-4-0 stay apart.
        let dotted = KubernetesNames.releaseName(app: "shop", version: "1.4.0")
        #expect(dotted.hasPrefix("shop-1-4-0-") && dotted.count == "shop-1-4-0-".count + 8)
        #expect(dotted != KubernetesNames.releaseName(app: "shop", version: "1-4-0"))
        #expect(KubernetesNames.releaseName(app: "shop", version: "v2") == "shop-v2")
        // Lowercasing and `+` must not make two versions one name.
        let upper = KubernetesNames.releaseName(app: "shop", version: "V2")
        let plus = KubernetesNames.releaseName(app: "shop", version: "2+build")
        let dash = KubernetesNames.releaseName(app: "shop", version: "2-build")
        #expect(upper != "shop-v2" && plus != dash)
        let long = KubernetesNames.releaseName(app: String(repeating: "a", count: 40), version: "1.0.0-rc.1+abc")
        #expect(long.count <= 46)
        for name in [upper, plus, dash, long] {
            #expect(name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" }, "\(name)")
            #expect(name.first?.isLetter == true && name.last != "-", "\(name)")
        }
        #expect(KubernetesNames.labelValue("1.4.0") == "1.4.0")
        #expect(KubernetesNames.labelValue("2+build") != KubernetesNames.labelValue("2.build"))
        #expect(KubernetesNames.labelValue(String(repeating: "x", count: 80)).count <= 63)
        #expect(
            KubernetesNames.selector(app: "shop@prod", version: "v2")
                == "app.kubernetes.io/managed-by=slipway,slipway.dev/app=shop.prod,slipway.dev/version=v2"
        )
    }

    static let workload = KubernetesWorkload(
        app: "shop@prod",
        baseName: "shop",
        settings: AppKubernetesSpec(
            namespace: "shop",
            image: "registry.example/shop:{version}",
            port: 8080,
            requests: ["cpu": "250m", "memory": "128Mi"],
            limits: ["memory": "256Mi"],
            serviceAccount: "shop",
            imagePullPolicy: "IfNotPresent"
        ),
        health: HealthCheckSpec(path: "/ready", interval: .milliseconds(1500), timeout: .milliseconds(500))
    )
    static let run = RunSpec(
        command: ["/app/shop", "--port", "{port}", "--release", "{version}"],
        env: ["MODE": "live", "PORT": "1"],
        stopGracePeriod: .seconds(20)
    )

    @Test func aReleaseIsADeploymentWithTheAppsCommandProbeAndGate() throws {
        let deployment = ReleaseManifest.deployment(
            of: Self.workload,
            version: "2.0.0",
            run: Self.run,
            replicas: 3,
            rollout: "7"
        )
        let labels = deployment.metadata?["labels"]
        #expect(labels?["slipway.dev/rollout"] == "7" && labels?["app.kubernetes.io/name"] == "shop")
        #expect(deployment.metadata?["annotations"]?["slipway.dev/version"] == "2.0.0")
        let spec = try #require(deployment["spec"])
        #expect(spec["replicas"] == 3)
        #expect(
            spec["selector"]?["matchLabels"]
                == [
                    "app.kubernetes.io/managed-by": "slipway", "slipway.dev/app": "shop.prod",
                    "slipway.dev/version": "2.0.0",
                ]
        )
        let pod = try #require(spec["template"]?["spec"])
        #expect(pod["readinessGates"] == [["conditionType": "slipway.dev/serving"]])
        #expect(pod["terminationGracePeriodSeconds"] == 20 && pod["serviceAccountName"] == "shop")
        guard case .array(let containers) = pod["containers"] ?? .null, let container = containers.first else {
            Issue.record("no container")
            return
        }
        #expect(container["image"] == "registry.example/shop:2.0.0")
        #expect(container["command"] == ["/app/shop", "--port", "8080", "--release", "2.0.0"])
        #expect(container["readinessProbe"]?["httpGet"]?["path"] == "/ready")
        // 1.5 s rounds up to the whole seconds Kubernetes counts in.
        #expect(container["readinessProbe"]?["periodSeconds"] == 2)
        guard case .array(let env) = container["env"] ?? .null else {
            Issue.record("no env")
            return
        }
        let names = env.compactMap { $0["name"]?.stringValue }
        #expect(names == ["MODE", "PORT", "SLIPWAY_APP", "SLIPWAY_VERSION", "SLIPWAY_POD", "POD_IP"])
        #expect(env[1]["value"] == "8080")
    }

    /// What Slipway applies must be valid on current clusters too, not only on the 1.20 server of the lab.
    @Test func theDeploymentIsValidAgainstCurrentKubernetesSchemas() async throws {
        let deployment = ReleaseManifest.deployment(of: Self.workload, version: "2.0.0", run: Self.run, replicas: 3)
        let result = try await KubeValidate.check([deployment])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("ok  ") && result.output.contains("Deployment/shop-prod-2-0-0-"))
        // And the check is a real one: a field Kubernetes does not know fails it.
        guard case .object(var broken) = deployment, case .object(var spec) = broken["spec"] ?? .null else { return }
        spec["replica"] = 3
        broken["spec"] = .object(spec)
        let refused = try await KubeValidate.check([.object(broken)])
        #expect(refused.status == 1 && refused.output.contains("spec.replica: unknown field"), "\(refused.output)")
    }
}
