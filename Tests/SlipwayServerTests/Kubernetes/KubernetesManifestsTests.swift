import Foundation
import SlipwayCore
import SlipwayKubernetes
import SlipwayTestSupport
import Testing
import Yams

/// `slipway kubernetes manifests`: what it prints installs on a real API server (1.20) and is valid against the
/// schemas of a current Kubernetes; a config that cannot run in a cluster is refused with where and why.
@Suite("Kubernetes install manifests", .serialized)
struct KubernetesManifestsTests {
    static func config(listen: String) -> String {
        """
        controller:
          api: 127.0.0.1:7070
          stateDir: state
        apps:
          - name: shop
            listen: \(listen)
            platform: kubernetes
            kubernetes: { image: "registry.example/shop:{version}", namespace: shop }
            instances: 2
            version: "1.0.0"
            run:
              command: [/app/shop, --port, "{port}"]
          - name: cart
            listen: 0.0.0.0:8081
            platform: kubernetes
            kubernetes: { image: "registry.example/cart:{version}", namespace: cart }
            instances: 1
            version: "3.1"
            run:
              command: [/app/cart]
        """
    }

    /// Runs the command on `yaml`; its outcome.
    static func manifests(_ yaml: String) async throws -> SlipwayBinary.Run {
        let directory = try makeTemporaryDirectory("slipway-manifests")
        try yaml.write(toFile: directory + "/slipway.yaml", atomically: true, encoding: .utf8)
        return try await SlipwayBinary.run(
            ["kubernetes", "manifests", "--image", "registry.example/slipway:1.0", "-f", "slipway.yaml"],
            in: directory
        )
    }

    /// The documents of a YAML stream, as JSON values.
    static func documents(_ text: String) throws -> [JSONValue] {
        try Yams.load_all(yaml: text).map { document -> JSONValue in
            let data = try JSONSerialization.data(withJSONObject: document)
            return try JSONDecoder().decode(JSONValue.self, from: data)
        }
    }

    @Test func aConfigThatCannotRunInAClusterIsRefused() async throws {
        let loopback = try await Self.manifests(Self.config(listen: "127.0.0.1:8080"))
        #expect(loopback.status == 2 && loopback.stdout.isEmpty)
        #expect(
            loopback.stderr.contains("apps[0].listen: 127.0.0.1:8080 is a loopback address, which a Service cannot"),
            "\(loopback.stderr)"
        )
        let local = try await Self.manifests(
            Self.config(listen: "0.0.0.0:8080").replacingOccurrences(
                of:
                    "    platform: kubernetes\n    kubernetes: { image: \"registry.example/cart:{version}\", namespace: cart }\n",
                with: ""
            )
        )
        #expect(local.status == 2, "\(local.stdout)")
        #expect(local.stderr.contains("apps[1].platform: app cart runs on this machine"), "\(local.stderr)")
    }

    @Test(.tags(.heavy)) func theManifestsInstallOnARealAPIServerAndAreValidOnCurrentKubernetes() async throws {
        let run = try await Self.manifests(Self.config(listen: "0.0.0.0:8080"))
        #expect(run.status == 0, "\(run.stderr)")
        let objects = try Self.documents(run.stdout)
        let kinds = objects.compactMap { $0["kind"]?.stringValue }
        #expect(
            kinds == [
                "Namespace", "ServiceAccount", "Role", "RoleBinding", "Role", "RoleBinding", "ConfigMap",
                "PersistentVolumeClaim", "Deployment", "Service", "Service",
            ],
            "\(kinds)"
        )
        // The config travels as written; the state goes on the claim where the config puts it.
        let configMap = try #require(objects.first { $0["kind"] == "ConfigMap" })
        #expect(configMap["data"]?["slipway.yaml"]?.stringValue == Self.config(listen: "0.0.0.0:8080"))
        let deployment = try #require(objects.first { $0["kind"] == "Deployment" })
        let mounts = "\(deployment)"
        #expect(mounts.contains("/srv/slipway/state") && mounts.contains("SLIPWAY_KUBERNETES_IN_CLUSTER"))

        let validated = try await KubeValidate.check(objects)
        #expect(validated.status == 0, "\(validated.output)")

        try await HeavyLoad.exclusive {
            try await KubeLab.with { lab in
                let client = try KubernetesClient(try Kubeconfig.credentials(file: lab.kubeconfig))
                do {
                    for namespace in ["shop", "cart"] {
                        _ = try await client.apply(
                            ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]],
                            at: "/api/v1/namespaces/\(namespace)"
                        )
                    }
                    for object in objects {
                        let stored = try await client.apply(object, at: try Self.path(of: object))
                        #expect(stored.metadata?["uid"] != nil, "\(object)")
                    }
                    // The Role gives what the platform uses, and the server took it as written.
                    let role = try await client.get("/apis/rbac.authorization.k8s.io/v1/namespaces/shop/roles/slipway")
                    #expect("\(role["rules"] ?? .null)".contains("deployments/scale"))
                } catch {
                    await client.shutdown()
                    throw error
                }
                await client.shutdown()
            }
        }
    }

    /// Where an object of a kind the manifests use lives.
    static func path(of object: JSONValue) throws -> String {
        let name = object.metadata?["name"]?.stringValue ?? ""
        let namespace = object.metadata?["namespace"]?.stringValue ?? ""
        switch object["kind"]?.stringValue {
        case "Namespace": return "/api/v1/namespaces/\(name)"
        case "ServiceAccount": return "/api/v1/namespaces/\(namespace)/serviceaccounts/\(name)"
        case "ConfigMap": return "/api/v1/namespaces/\(namespace)/configmaps/\(name)"
        case "PersistentVolumeClaim": return "/api/v1/namespaces/\(namespace)/persistentvolumeclaims/\(name)"
        case "Service": return "/api/v1/namespaces/\(namespace)/services/\(name)"
        case "Deployment": return "/apis/apps/v1/namespaces/\(namespace)/deployments/\(name)"
        case "Role": return "/apis/rbac.authorization.k8s.io/v1/namespaces/\(namespace)/roles/\(name)"
        case "RoleBinding": return "/apis/rbac.authorization.k8s.io/v1/namespaces/\(namespace)/rolebindings/\(name)"
        case let kind: throw LoopbackHTTP.Failure(description: "no path for kind \(kind ?? "?")")
        }
    }
}
